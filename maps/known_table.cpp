// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "known_table.hpp"

#include "state.hpp"

#include <cstring>

namespace pbxwall {

KnownTable::KnownTable(int fd, int bitsFd) : TypedMap(fd, PW_MAP_NAME_KNOWN), bits_(bitsFd, PW_MAP_NAME_KNOWNBITS) {}

void KnownTable::update(const pw_ban_key& key, const pw_known& value, __u64 flags)
{
    TypedMap::update(key, value, flags);
    bits_.setBoth(key);
}

void KnownTable::updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_known>& values)
{
    TypedMap::updateMany(keys, values);
    for (const auto& k : keys)
        bits_.setBoth(k);
}

void KnownTable::rebuildHalf(__u32 half)
{
    if (!bits_.clearHalf(half))
        return;
    for (const auto& [k, v] : entries()) // a syscall per entry: ordered after the clear
        bits_.set(k, half);
}

size_t KnownTable::saveState(const std::string& stateDir) const
{
    const uint64_t now = monotonicNowNs();
    std::vector<CtlKnown> live;
    for (const auto& [k, v] : entries()) {
        if (v.expires_ns <= now)
            continue;
        CtlKnown e;
        std::memcpy(e.addr.bytes.data(), k.addr, sizeof(k.addr));
        e.expiresUnix = monotonicNsToUnix(v.expires_ns);
        e.createdUnix = monotonicNsToUnix(v.created_ns);
        live.push_back(e);
    }
    CtlState::saveKnown(stateDir, live);
    return live.size();
}

size_t KnownTable::replayState(const std::string& stateDir, size_t capacity)
{
    const int64_t now = unixNow();
    std::vector<pw_ban_key> keys;
    std::vector<pw_known> values;
    for (const auto& e : CtlState::loadKnown(stateDir)) {
        if (e.expiresUnix <= now || keys.size() >= capacity)
            continue;
        pw_ban_key k{};
        std::memcpy(k.addr, e.addr.bytes.data(), sizeof(k.addr));
        pw_known v{};
        v.expires_ns = unixToMonotonicNs(e.expiresUnix);
        v.created_ns = pastUnixToMonotonicNs(e.createdUnix);
        keys.push_back(k);
        values.push_back(v);
    }
    if (!keys.empty())
        updateMany(keys, values);
    return keys.size();
}

} // namespace pbxwall
