// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Layout checks of pinned maps against this build, by the BTF each map carries.
//
// A pinned map outlives the pbxwalld and pbxwallctl that made it. Key and value sizes alone do
// not tell two builds apart: two fields that swap places, or a field that changes meaning,
// keep the size. The kernel keeps the BTF type of a map's key and value (the object's types at
// creation), so the two layouts can be compared member by member.
#pragma once

#include <linux/types.h>

#include <string>

struct btf;
struct bpf_object;
struct bpf_map;

namespace pbxwall {

// Where the layout `theirs` (type theirId, from a pinned map: an earlier or another build)
// differs from `ours` (ourId, this build), as a short phrase such as "pw_fail: member 0 is
// `from_ns` there, `failures` here"; empty when the two lay out the same. Compared: sizes,
// kinds, integer widths and bit fields, array lengths, and every member's offset, size and
// name, through typedefs and qualifiers (type names are not compared). Members are matched by
// name. One evolution is allowed: the space of a member named pad* or reserved* in `theirs`
// may hold other members in `ours`, split as they need (padding given uses that read 0 as
// "off"); the reverse is a difference.
std::string btfLayoutDifference(const btf* ours, __u32 ourId, const btf* theirs, __u32 theirId);

// The pinned map behind fd against map m of this build's object: the key's or the value's
// difference, prefixed with which; empty when they match, and when it cannot be told (either
// side without BTF types, or the pinned map's BTF cannot be read).
std::string pinnedLayoutDifference(int fd, const bpf_object* obj, const bpf_map* m);

} // namespace pbxwall
