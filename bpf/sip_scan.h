/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The header scan's first pass (pw_sip_headers): which header lines it notes, by the byte that
 * starts them. Included by sip_guards.h after struct pw_uf_lines. */
#ifndef PBXWALL_SIP_SCAN_H
#define PBXWALL_SIP_SCAN_H

/* What the first byte of a header line tells pw_hdr_lines: the empty line that ends the
 * headers ('\r' or '\n'), a line to note (u, f in either case: User-Agent or From), or
 * nothing to note (0). One load instead of four compares. Four parts of 256: with PW_LINE_C
 * for requests whose CSeq is checked (pw_sip_content), c lines are noted too; with PW_LINE_V,
 * for requests whose Via is checked, v lines, and r lines (a Replaces before the top Via; a
 * Route, pw_sip_relayable). */
enum { PW_LINE_OTHER = 0, PW_LINE_UF = 1, PW_LINE_END = 2 };
#define PW_LINE_C 256
#define PW_LINE_V 512
#define PW_LINE_PART(base)                                                                                    \
	[(base) + '\r'] = PW_LINE_END, [(base) + '\n'] = PW_LINE_END, [(base) + 'U'] = PW_LINE_UF,              \
	[(base) + 'u'] = PW_LINE_UF, [(base) + 'F'] = PW_LINE_UF, [(base) + 'f'] = PW_LINE_UF
static const __u8 pw_line_start[4 * 256] = {
	PW_LINE_PART(0),
	PW_LINE_PART(PW_LINE_C),
	[PW_LINE_C + 'C'] = PW_LINE_UF, [PW_LINE_C + 'c'] = PW_LINE_UF,
	PW_LINE_PART(PW_LINE_V),
	[PW_LINE_V + 'V'] = PW_LINE_UF, [PW_LINE_V + 'v'] = PW_LINE_UF,
	[PW_LINE_V + 'R'] = PW_LINE_UF, [PW_LINE_V + 'r'] = PW_LINE_UF,
	PW_LINE_PART(PW_LINE_C | PW_LINE_V),
	[PW_LINE_C + PW_LINE_V + 'C'] = PW_LINE_UF, [PW_LINE_C + PW_LINE_V + 'c'] = PW_LINE_UF,
	[PW_LINE_C + PW_LINE_V + 'V'] = PW_LINE_UF, [PW_LINE_C + PW_LINE_V + 'v'] = PW_LINE_UF,
	[PW_LINE_C + PW_LINE_V + 'R'] = PW_LINE_UF, [PW_LINE_C + PW_LINE_V + 'r'] = PW_LINE_UF,
};

/* One word of pw_sip_headers' first pass, at q (q + 9 is in the packet), qoff bytes from the
 * scan's start, with its '\n' bytes nl (not 0): notes the lines that start with U or F after
 * each of them, up to the empty line. Returns 1 when the empty line (the end of the headers)
 * is in it. */
static __always_inline int pw_hdr_lines(__u8 *q, __u32 qoff, __u64 nl, struct pw_uf_lines *ul,
					volatile __u32 *words)
{
	__u64 ends, uf;

	if (!(nl & (nl - 1))) {
		/* One line end, as in most words: the byte after it, alone. */
		__u8 ch = *(__u64 *)(q + 1) >> ((pw_byte_index(nl) & 7) * 8);
		/* The table's part, from map memory: kept in a register, it pushed the first pass's
		 * registers onto the stack. */
		__u8 cls = pw_line_start[ch | (*(volatile __u32 *)&ul->line_set & (PW_LINE_C | PW_LINE_V))];

		if (cls == PW_LINE_OTHER)
			return 0;
		ends = cls == PW_LINE_END ? nl : 0;
		uf = cls == PW_LINE_UF ? nl : 0;
	} else {
		__u64 next = *(__u64 *)(q + 1); /* the byte after each one */
		__u64 lc = next | (PW_ONES * 0x20);

		ends = nl & (pw_zero_bytes(next ^ (PW_ONES * '\r')) | pw_zero_bytes(next ^ (PW_ONES * '\n')));
		uf = nl & (pw_zero_bytes(lc ^ (PW_ONES * 'u')) | pw_zero_bytes(lc ^ (PW_ONES * 'f')) |
			   *(volatile __u64 *)&ul->cv_mask);
	}

	if (ends)
		uf &= (ends & -ends) - 1; /* the lines before the end */
	if (uf) {
		__u32 n = *words;

		if (n < PW_UF_LINES) {
			ul->woff[n & (PW_UF_LINES - 1)] = qoff + 1;
			ul->wmask[n & (PW_UF_LINES - 1)] = uf;
		}
		*words = n + 1;
	}
	return ends != 0;
}

/* pw_hdr_lines for the word at q, whatever it holds. */
static __always_inline int pw_hdr_word(__u8 *q, __u32 qoff, struct pw_uf_lines *ul, volatile __u32 *words)
{
	__u64 nl = pw_lf_bytes(*(__u64 *)q);

	return nl && pw_hdr_lines(q, qoff, nl, ul, words);
}

/* From offset o of p on, the offset of the first 32-byte chunk that may hold a '\n', of the
 * first that is not whole before data_end, or PW_SIP_HDR_SCAN or more; for the first, a[k] is
 * the line-end sum of its word k: ((w ^ '\n'..) + 0x7f..) | 0x7f.., all ones but where a '\n'
 * may be. In an ASCII byte the sum's high bit is clear exactly when the byte is a '\n', and
 * nothing carries into the next byte. A byte past ASCII that carries clears its own high bit, so
 * a chunk whose sums are all ones holds no '\n' whatever it holds; where one is clear, ~a[k] is
 * word k's '\n' mask only if the chunk is ASCII (the caller tests that). In BPF assembly so that
 * the loop keeps its offset, pointer and end in registers (all ten are used): compiled with the
 * rest of the first pass, the compiler kept all three on the stack, a store and three loads per
 * 32 bytes. */
static __always_inline __u64 pw_skip_chunks(__u8 *p, __u64 o, void *data_end, __u64 a[4])
{
	__u64 q, a0, a1, a2, a3, lf = PW_ONES * '\n', low = PW_LOW7;

	/* The four outputs hold numbers on every way out (the verifier refuses a C read of an
	 * unset register, or arithmetic on a packet pointer). */
	asm volatile("%[a0] = 0\n\t"
		     "%[a1] = 0\n\t"
		     "%[a2] = 0\n\t"
		     "%[a3] = 0\n\t"
		     "1:\n\t"
		     "if %[o] >= %[scan] goto 2f\n\t"
		     "%[q] = %[p]\n\t"
		     "%[q] += %[o]\n\t"
		     "%[a0] = %[q]\n\t"
		     "%[a0] += 33\n\t"
		     "if %[a0] > %[end] goto 3f\n\t" /* not 33 bytes left */
		     "%[a0] = *(u64 *)(%[q] + 0)\n\t"
		     "%[a1] = *(u64 *)(%[q] + 8)\n\t"
		     "%[a2] = *(u64 *)(%[q] + 16)\n\t"
		     "%[a3] = *(u64 *)(%[q] + 24)\n\t"
		     "%[a0] ^= %[lf]\n\t"
		     "%[a1] ^= %[lf]\n\t"
		     "%[a2] ^= %[lf]\n\t"
		     "%[a3] ^= %[lf]\n\t"
		     "%[a0] += %[low]\n\t"
		     "%[a1] += %[low]\n\t"
		     "%[a2] += %[low]\n\t"
		     "%[a3] += %[low]\n\t"
		     "%[a0] |= %[low]\n\t"
		     "%[a1] |= %[low]\n\t"
		     "%[a2] |= %[low]\n\t"
		     "%[a3] |= %[low]\n\t"
		     "%[q] = %[a0]\n\t"
		     "%[q] &= %[a1]\n\t"
		     "%[q] &= %[a2]\n\t"
		     "%[q] &= %[a3]\n\t"
		     "if %[q] != -1 goto 2f\n\t" /* a high bit clear: a '\n' may be there */
		     "%[o] += 32\n\t"
		     "goto 1b\n\t"
		     "3:\n\t"
		     "%[a0] = 0\n\t" /* a number, not the pointer */
		     "2:\n\t"
		     : [o] "+r"(o), [q] "=&r"(q), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3)
		     : [p] "r"(p), [end] "r"(data_end), [lf] "r"(lf), [low] "r"(low), [scan] "i"(PW_SIP_HDR_SCAN));
	a[0] = a0;
	a[1] = a1;
	a[2] = a2;
	a[3] = a3;
	return o;
}

#endif /* PBXWALL_SIP_SCAN_H */
