// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Opening the pbxwall maps by pin path or from a loaded object.
#include "map_set.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

namespace pbxwall {

const std::vector<std::string>& pinnedMapNames()
{
    static const std::vector<std::string> names = {
        PW_MAP_NAME_GEN,  PW_MAP_NAME_POLICY, PW_MAP_NAME_PORTS, PW_MAP_NAME_IFACES,
        PW_MAP_NAME_HOSTS4, PW_MAP_NAME_HOSTBITS4, PW_MAP_NAME_HOSTS6, PW_MAP_NAME_NETS, PW_MAP_NAME_NETS4,  PW_MAP_NAME_BANS, PW_MAP_NAME_BANBITS, PW_MAP_NAME_BANCACHE, PW_MAP_NAME_SRC4, PW_MAP_NAME_FLOWS,
        PW_MAP_NAME_FRAGS, PW_MAP_NAME_STATS, PW_MAP_NAME_KNOWN, PW_MAP_NAME_KNOWNBITS, PW_MAP_NAME_RATE,
        PW_MAP_NAME_NEWSRC, PW_MAP_NAME_EVENTS, PW_MAP_NAME_FAILS, PW_MAP_NAME_SIPRULES,
        PW_MAP_NAME_STAGES, PW_MAP_NAME_HANDOFF,
    };
    return names;
}

namespace {

// Fills every member from a name -> fd function.
void assign(MapSet& s, const std::function<int(const std::string&)>& fdOf)
{
    s.gen = {fdOf(PW_MAP_NAME_GEN), PW_MAP_NAME_GEN};
    s.policy = {fdOf(PW_MAP_NAME_POLICY), PW_MAP_NAME_POLICY};
    s.ports = {fdOf(PW_MAP_NAME_PORTS), PW_MAP_NAME_PORTS};
    s.ifaces = {fdOf(PW_MAP_NAME_IFACES), PW_MAP_NAME_IFACES};
    s.hosts4 = Host4Table(fdOf(PW_MAP_NAME_HOSTS4));
    s.hostbits4 = MappedHalves(fdOf(PW_MAP_NAME_HOSTBITS4), sizeof(__u64), PW_MAP_NAME_HOSTBITS4);
    if (s.hostbits4.blocksPerHalf() != 2 * s.hosts4.buckets())
        throw std::runtime_error(PW_MAP_NAME_HOSTBITS4 " has " + std::to_string(s.hostbits4.blocksPerHalf()) +
                                 " words per half, " PW_MAP_NAME_HOSTS4 " " + std::to_string(s.hosts4.buckets()) +
                                 " buckets: they must be sized together (run pbxwalld --detach, then start it again)");
    s.hosts6 = Host6Table(fdOf(PW_MAP_NAME_HOSTS6));
    s.nets4 = Net4Table(fdOf(PW_MAP_NAME_NETS4));
    s.nets = {fdOf(PW_MAP_NAME_NETS), PW_MAP_NAME_NETS};
    s.src4 = Src4Map(fdOf(PW_MAP_NAME_SRC4));
    s.bans = BanTable(fdOf(PW_MAP_NAME_BANS), fdOf(PW_MAP_NAME_BANBITS), fdOf(PW_MAP_NAME_BANCACHE), s.src4);
    s.flows = {fdOf(PW_MAP_NAME_FLOWS), PW_MAP_NAME_FLOWS};
    s.frags = {fdOf(PW_MAP_NAME_FRAGS), PW_MAP_NAME_FRAGS};
    s.known = KnownTable(fdOf(PW_MAP_NAME_KNOWN), fdOf(PW_MAP_NAME_KNOWNBITS));
    s.rate = RateTable(fdOf(PW_MAP_NAME_RATE), PW_MAP_NAME_RATE);
    s.fails = {fdOf(PW_MAP_NAME_FAILS), PW_MAP_NAME_FAILS};
    s.siprules = {fdOf(PW_MAP_NAME_SIPRULES), PW_MAP_NAME_SIPRULES};
    s.newsrcFd = fdOf(PW_MAP_NAME_NEWSRC);
    s.statsFd = fdOf(PW_MAP_NAME_STATS);
    s.eventsFd = fdOf(PW_MAP_NAME_EVENTS);
}

__u32 maxEntries(int fd, const std::string& name)
{
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        throwErrno(errno, "inspect " + name);
    return info.max_entries;
}

} // namespace

MapSet MapSet::openPinned(const std::string& pinDir)
{
    MapSet s;
    assign(s, [&](const std::string& name) {
        std::string path = pinDir + "/" + name;
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) {
            int err = errno;
            if (err == EACCES || err == EPERM)
                throwErrno(err, "open " + path + " (pbxwall's maps are root-only: run as root)");
            if (err == ENOENT)
                throwErrno(err, "open " + path + " (is pbxwalld started with this pin_dir?)");
            throwErrno(err, "open " + path);
        }
        s.owned.emplace_back(fd);
        return fd;
    });
    return s;
}

MapSet MapSet::fromObject(bpf_object* obj)
{
    MapSet s;
    assign(s, [&](const std::string& name) {
        bpf_map* m = bpf_object__find_map_by_name(obj, name.c_str());
        if (!m)
            throwErrno(ENOENT, "find map " + name + " in the BPF object");
        return bpf_map__fd(m);
    });
    return s;
}

__u32 MapSet::activeGen() const
{
    auto g = gen.lookup(0);
    return g ? (g->active & 1) : 0;
}

__u32 MapSet::hostsCapacity() const { return hosts4.capacity() + hosts6.capacity(); }
__u32 MapSet::netsCapacity() const { return maxEntries(nets.fd(), nets.name()) / PW_GENERATIONS; }
__u32 MapSet::bansCapacity() const { return maxEntries(bans.fd(), bans.name()); }

__u32 MapSet::knownCapacity() const { return maxEntries(known.fd(), known.name()); }

bool btfReadsHostShrink(const struct btf* b)
{
    if (!b)
        return false;
    const int id = btf__find_by_name_kind(b, "pw_gen_state", BTF_KIND_STRUCT);
    if (id < 0)
        return false;
    const btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    const btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++m)
        if (const char* name = btf__name_by_offset(b, m->name_off); name && std::strcmp(name, "host_shrink") == 0)
            return true;
    return false;
}

} // namespace pbxwall
