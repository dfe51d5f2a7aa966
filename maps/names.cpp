// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Name tables for pw_zone, pw_reason and pw_ban_cause. Adding an enum value without a name here
// fails the static_asserts below.
#include "names.hpp"

#include <array>

namespace pbxwall {

namespace {

constexpr std::array<std::string_view, PW_ZONE__COUNT> kZoneNames = {
    "none", "trusted", "local", "other", "internet", "reject",
};
static_assert(kZoneNames.size() == PW_ZONE__COUNT);
static_assert(kZoneNames[PW_ZONE_NONE] == "none" && kZoneNames[PW_ZONE_REJECT] == "reject");

// Indexed by reason number; gaps (PW_REASON_PASS__END..PW_REASON_DROP_BASE-1) stay empty.
constexpr std::array<std::string_view, PW_REASON__END> kReasonNames = [] {
  std::array<std::string_view, PW_REASON__END> t{};
  t[PW_REASON_NON_IP] = "non_ip";
  t[PW_REASON_TRUSTED] = "trusted";
  t[PW_REASON_SERVICE] = "service";
  t[PW_REASON_UNLISTED_PASS] = "unlisted_pass";
  t[PW_REASON_ICMP] = "icmp";
  t[PW_REASON_REPLY] = "reply";
  t[PW_REASON_DHCP] = "dhcp";
  t[PW_REASON_SIP_KNOWN] = "sip_known";
  t[PW_REASON_SIP_RESPONSIVE] = "sip_responsive";
  t[PW_REASON_MALFORMED] = "malformed";
  t[PW_REASON_MARTIAN] = "martian";
  t[PW_REASON_REJECT] = "reject";
  t[PW_REASON_BANNED] = "banned";
  t[PW_REASON_SERVICE_DENIED] = "service_denied";
  t[PW_REASON_UNLISTED_DROP] = "unlisted_drop";
  t[PW_REASON_ICMP_DENIED] = "icmp_denied";
  t[PW_REASON_FRAGMENT_ORPHAN] = "fragment_orphan";
  t[PW_REASON_RATE_LIMITED] = "rate_limited";
  t[PW_REASON_NOT_WHITELISTED] = "not_whitelisted";
  t[PW_REASON_NEW_SOURCE_LIMITED] = "new_source_limited";
  t[PW_REASON_TRAP_PORT] = "trap_port";
  t[PW_REASON_MALFORMED_SIP] = "malformed_sip";
  t[PW_REASON_ANONYMOUS_INVITE] = "anonymous_invite";
  t[PW_REASON_SCANNER] = "scanner";
  t[PW_REASON_TOLL_FRAUD] = "toll_fraud";
  t[PW_REASON_NO_STAGE] = "no_stage";
  return t;
}();
static_assert(kReasonNames.size() == PW_REASON__END);
static_assert(PW_REASON__END <= PW_REASON_SLOTS);

constexpr bool reasonTableComplete()
{
  // Every pass reason and every drop reason up to the sentinel has a name.
  for (unsigned r = 0; r < PW_REASON__END; ++r) {
    const bool used = r < PW_REASON_PASS__END || r >= PW_REASON_DROP_BASE;
    if (used == kReasonNames[r].empty())
      return false;
  }
  return true;
}
static_assert(reasonTableComplete(), "a pw_reason lacks a name (or a gap has one)");

constexpr std::array<std::string_view, PW_BAN__COUNT> kBanCauseNames = {"manual", "rate_limit", "trap_port", "auth_failure", "scanner"};
static_assert(kBanCauseNames.size() == PW_BAN__COUNT);

} // namespace

std::string_view zoneName(unsigned zone)
{
  return zone < kZoneNames.size() ? kZoneNames[zone] : std::string_view{};
}

std::string zoneLabel(unsigned zone)
{
  const std::string_view n = zoneName(zone);
  return n.empty() ? "zone_" + std::to_string(zone) : std::string(n);
}

std::optional<pw_zone> zoneFromName(std::string_view name)
{
  for (unsigned z = PW_ZONE_NONE + 1; z < kZoneNames.size(); ++z) {
    if (kZoneNames[z] == name)
      return static_cast<pw_zone>(z);
  }
  return std::nullopt;
}

std::string_view reasonName(unsigned reason)
{
  return reason < kReasonNames.size() ? kReasonNames[reason] : std::string_view{};
}

std::string reasonLabel(unsigned reason)
{
  const std::string_view n = reasonName(reason);
  return n.empty() ? "reason_" + std::to_string(reason) : std::string(n);
}

std::optional<pw_reason> reasonFromName(std::string_view name)
{
  if (name.empty())
    return std::nullopt;
  for (unsigned r = 0; r < kReasonNames.size(); ++r) {
    if (kReasonNames[r] == name)
      return static_cast<pw_reason>(r);
  }
  return std::nullopt;
}

bool reasonIsDrop(unsigned reason)
{
  return PW_REASON_IS_DROP(reason);
}

std::string_view banCauseName(unsigned cause)
{
  return cause < kBanCauseNames.size() ? kBanCauseNames[cause] : std::string_view{};
}

} // namespace pbxwall
