// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "known_table.hpp"

#include "state.hpp"

#include <algorithm>
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

size_t KnownTable::replayState(const std::string& stateDir, size_t capacity, uint64_t maxSeconds, size_t* skipped,
                               std::vector<std::string>* broken)
{
    const int64_t now = unixNow();
    std::vector<CtlKnown> live;
    for (const auto& e : CtlState::loadKnown(stateDir, broken))
        if (e.expiresUnix > now)
            live.push_back(e);
    std::sort(live.begin(), live.end(), [](const CtlKnown& a, const CtlKnown& b) { return a.expiresUnix > b.expiresUnix; });
    *skipped = live.size() > capacity ? live.size() - capacity : 0;
    live.resize(std::min(live.size(), capacity));
    std::vector<pw_ban_key> keys;
    std::vector<pw_known> values;
    for (const auto& e : live) {
        pw_ban_key k{};
        std::memcpy(k.addr, e.addr.bytes.data(), sizeof(k.addr));
        pw_known v{};
        v.expires_ns = unixToMonotonicNs(std::min<int64_t>(e.expiresUnix, now + static_cast<int64_t>(maxSeconds)));
        v.created_ns = pastUnixToMonotonicNs(e.createdUnix);
        keys.push_back(k);
        values.push_back(v);
    }
    if (!keys.empty())
        updateMany(keys, values);
    return keys.size();
}

} // namespace pbxwall
