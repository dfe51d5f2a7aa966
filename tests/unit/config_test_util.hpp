// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Helpers of the config unit tests: loading text, and the one-error check.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace pbxwall::config::test {

inline const LoadOptions kNoIfCheck{false};

constexpr std::string_view kIface = "[[interface]]\nname = \"eth0\"\nzone = \"internet\"\n";

inline LoadResult load(std::string_view text, const LoadOptions& options = kNoIfCheck)
{
  return loadString(text, "test.toml", options);
}

// Config text: the one valid interface (lines 1-3) followed by body from line 4 on.
inline std::string withIface(std::string_view body)
{
  return std::string(kIface) + std::string(body);
}

// Config text: top-level keys from line 1 on, then the interface (written after them, since
// keys that follow [[interface]] belong to it).
inline std::string ifaceAfter(std::string_view top)
{
  return std::string(top) + std::string(kIface);
}

inline std::vector<Diagnostic> errorsOf(const LoadResult& r)
{
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : r.diagnostics)
    if (!d.warning)
      out.push_back(d);
  return out;
}

inline std::string dump(const LoadResult& r)
{
  std::string out;
  for (const Diagnostic& d : r.diagnostics)
    out += d.str() + "\n";
  return out;
}

// The load failed with exactly one error, at line, whose message contains text.
inline void requireOneError(const LoadResult& r, int line, std::string_view text)
{
  INFO(dump(r));
  CHECK(!r.ok());
  CHECK(!r.config);
  const auto errors = errorsOf(r);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == line);
  CHECK(errors[0].file == "test.toml");
  CHECK(errors[0].message.find(text) != std::string::npos);
}

} // namespace pbxwall::config::test
