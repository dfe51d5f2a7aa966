// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "btf_layout.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <memory>
#include <utility>
#include <string_view>

namespace pbxwall {

namespace {

constexpr int kMaxDepth = 16; // the ABI's types nest 3 deep; BTF from elsewhere may loop

// The type under typedefs and qualifiers (id 0, void, stays 0).
const btf_type* bare(const btf* b, __u32& id)
{
    for (int i = 0; i < kMaxDepth; ++i) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!t || !(btf_is_typedef(t) || btf_is_mod(t)))
            return t;
        id = t->type;
    }
    return nullptr;
}

std::string nameOf(const btf* b, __u32 off)
{
    const char* n = btf__name_by_offset(b, off);
    return n && *n ? n : "(anonymous)";
}

bool isPadding(std::string_view name)
{
    return name.substr(0, 3) == "pad" || name.substr(0, 4) == "_pad" || name.substr(0, 8) == "reserved";
}

const char* kindName(const btf_type* t)
{
    switch (btf_kind(t)) {
    case BTF_KIND_INT: return "an integer";
    case BTF_KIND_PTR: return "a pointer";
    case BTF_KIND_ARRAY: return "an array";
    case BTF_KIND_STRUCT: return "a struct";
    case BTF_KIND_UNION: return "a union";
    case BTF_KIND_ENUM: return "an enum";
    case BTF_KIND_ENUM64: return "an enum";
    case BTF_KIND_FLOAT: return "a float";
    default: return "another kind of type";
    }
}

class Compare {
public:
    Compare(const btf* ours, const btf* theirs) : ours_(ours), theirs_(theirs) {}

    // where: the path to this type, for the message ("pw_fail.failures").
    std::string run(__u32 ourId, __u32 theirId, const std::string& where, int depth)
    {
        if (depth > kMaxDepth)
            return where + ": nested too deep to compare";
        const btf_type* a = bare(ours_, ourId);
        const btf_type* b = bare(theirs_, theirId);
        if (!a || !b)
            return where + ": a type cannot be read";
        if (ourId == 0 || theirId == 0)
            return ourId == theirId ? "" : where + ": void on one side only";
        const unsigned ka = btf_kind(a) == BTF_KIND_ENUM64 ? unsigned{BTF_KIND_ENUM} : btf_kind(a);
        const unsigned kb = btf_kind(b) == BTF_KIND_ENUM64 ? unsigned{BTF_KIND_ENUM} : btf_kind(b);
        if (ka != kb)
            return where + ": " + kindName(b) + " there, " + kindName(a) + " here";

        switch (ka) {
        case BTF_KIND_INT:
            if (a->size != b->size || btf_int_bits(a) != btf_int_bits(b) || btf_int_offset(a) != btf_int_offset(b))
                return where + ": an integer of " + std::to_string(btf_int_bits(b)) + " bits there, " +
                       std::to_string(btf_int_bits(a)) + " here";
            return "";
        case BTF_KIND_ENUM:
        case BTF_KIND_FLOAT:
        case BTF_KIND_PTR:
            // Pointers never sit in pbxwall's maps; an enum's or a float's layout is its size.
            return ka == BTF_KIND_PTR || a->size == b->size
                       ? ""
                       : where + ": " + std::to_string(b->size) + " bytes there, " + std::to_string(a->size) + " here";
        case BTF_KIND_ARRAY: {
            const auto* x = btf_array(a);
            const auto* y = btf_array(b);
            if (x->nelems != y->nelems)
                return where + ": " + std::to_string(y->nelems) + " elements there, " + std::to_string(x->nelems) +
                       " here";
            return run(x->type, y->type, where + "[]", depth + 1);
        }
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
            return members(a, b, where, depth);
        default:
            return where + ": " + kindName(a) + " cannot be compared";
        }
    }

private:
    // A member's bits: [offset, offset + width).
    static std::pair<__u64, __u64> span(const btf* b, const btf_type* t, unsigned i)
    {
        const __u64 off = btf_member_bit_offset(t, i);
        const __u32 bits = btf_member_bitfield_size(t, i);
        const long size = btf__resolve_size(b, btf_members(t)[i].type);
        return {off, off + (bits ? bits : size > 0 ? static_cast<__u64>(size) * 8 : 0)};
    }

    // Members are matched by name (anonymous ones by offset). Each member there that is not
    // padding must be here at the same place with the same layout; a member here that is not
    // there must lie within a padding member there (padding given a use, one that reads 0 as
    // "off"; split as the use needs). Padding here asks nothing. A union's members are compared
    // in order.
    std::string members(const btf_type* a, const btf_type* b, const std::string& where, int depth)
    {
        if (a->size != b->size)
            return where + ": " + std::to_string(b->size) + " bytes there, " + std::to_string(a->size) + " here";
        const btf_member* ma = btf_members(a);
        const btf_member* mb = btf_members(b);
        const unsigned na = btf_vlen(a), nb = btf_vlen(b);
        if (btf_kind(a) == BTF_KIND_UNION && na != nb)
            return where + ": " + std::to_string(nb) + " members there, " + std::to_string(na) + " here";
        const auto find = [&](const btf* in, const btf_type* t, const std::string& name, __u64 off) -> int {
            for (unsigned k = 0; k < btf_vlen(t); ++k) {
                const char* n = btf__name_by_offset(in, btf_members(t)[k].name_off);
                const bool anon = !n || !*n;
                if (name.empty() ? anon && btf_member_bit_offset(t, k) == off : !anon && name == n)
                    return static_cast<int>(k);
            }
            return -1;
        };
        const auto rawName = [](const btf* in, __u32 off) {
            const char* n = btf__name_by_offset(in, off);
            return std::string(n ? n : "");
        };
        for (unsigned j = 0; j < nb; ++j) {
            const std::string name = rawName(theirs_, mb[j].name_off);
            if (!name.empty() && isPadding(name))
                continue;
            const int i = btf_kind(a) == BTF_KIND_UNION ? static_cast<int>(j)
                                                        : find(ours_, a, name, btf_member_bit_offset(b, j));
            const std::string shown = name.empty() ? "(anonymous)" : name;
            if (i < 0)
                return where + ": member `" + shown + "` there is not here";
            const std::string at = where + "." + shown;
            if (rawName(ours_, ma[i].name_off) != name)
                return where + ": member " + std::to_string(j) + " is `" + shown + "` there, `" +
                       nameOf(ours_, ma[i].name_off) + "` here";
            if (btf_member_bit_offset(a, i) != btf_member_bit_offset(b, j))
                return at + ": at bit " + std::to_string(btf_member_bit_offset(b, j)) + " there, " +
                       std::to_string(btf_member_bit_offset(a, i)) + " here";
            if (btf_member_bitfield_size(a, i) != btf_member_bitfield_size(b, j))
                return at + ": a bit field of " + std::to_string(btf_member_bitfield_size(b, j)) + " bits there, " +
                       std::to_string(btf_member_bitfield_size(a, i)) + " here";
            if (std::string d = run(ma[i].type, mb[j].type, at, depth + 1); !d.empty())
                return d;
        }
        if (btf_kind(a) == BTF_KIND_UNION)
            return "";
        for (unsigned i = 0; i < na; ++i) { // new here: only inside padding there
            const std::string name = rawName(ours_, ma[i].name_off);
            if ((!name.empty() && isPadding(name)) || find(theirs_, b, name, btf_member_bit_offset(a, i)) >= 0)
                continue;
            const auto [lo, hi] = span(ours_, a, i);
            bool inPadding = false;
            for (unsigned j = 0; j < nb && !inPadding; ++j) {
                const std::string pn = rawName(theirs_, mb[j].name_off);
                const auto [plo, phi] = span(theirs_, b, j);
                inPadding = !pn.empty() && isPadding(pn) && plo <= lo && hi <= phi;
            }
            if (!inPadding)
                return where + ": member `" + (name.empty() ? "(anonymous)" : name) +
                       "` here is not there, nor in its padding";
        }
        return "";
    }

    const btf* ours_;
    const btf* theirs_;
};

std::string typeName(const btf* b, __u32 id)
{
    for (int i = 0; i < kMaxDepth; ++i) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!t)
            break;
        if (t->name_off)
            return nameOf(b, t->name_off);
        if (!btf_is_mod(t))
            break;
        id = t->type;
    }
    return "the type";
}

} // namespace

std::string btfLayoutDifference(const btf* ours, __u32 ourId, const btf* theirs, __u32 theirId)
{
    if (!ours || !theirs)
        return "no BTF to compare";
    return Compare(ours, theirs).run(ourId, theirId, typeName(ours, ourId), 0);
}

std::string pinnedLayoutDifference(int fd, const bpf_object* obj, const bpf_map* m)
{
    const btf* ours = bpf_object__btf(obj);
    const __u32 ourKey = bpf_map__btf_key_type_id(m);
    const __u32 ourValue = bpf_map__btf_value_type_id(m);
    if (!ours || (!ourKey && !ourValue))
        return "";
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0 || !info.btf_id)
        return "";
    std::unique_ptr<btf, void (*)(btf*)> theirs(btf__load_from_kernel_by_id(info.btf_id), btf__free);
    if (!theirs || libbpf_get_error(theirs.get()))
        return "";
    if (ourKey && info.btf_key_type_id)
        if (std::string d = btfLayoutDifference(ours, ourKey, theirs.get(), info.btf_key_type_id); !d.empty())
            return "key " + d;
    if (ourValue && info.btf_value_type_id)
        if (std::string d = btfLayoutDifference(ours, ourValue, theirs.get(), info.btf_value_type_id); !d.empty())
            return "value " + d;
    return "";
}

} // namespace pbxwall
