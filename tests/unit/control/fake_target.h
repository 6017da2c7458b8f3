// SPDX-License-Identifier: MIT
// A scripted ControlTarget for the control-plane tests: a tiny session state machine and knobs.
#pragma once

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

#include "daemon/control/control_target.h"

namespace hft::control::testing {

class FakeTarget final : public ControlTarget {
public:
  // Knobs a test sets before its call.
  std::atomic<bool> failReload{false};   // reload() throws ControlError(kErrorConfig)
  std::atomic<bool> throwRuntime{false}; // status() and stats() throw std::runtime_error
  std::atomic<bool> throwUnknown{false}; // status() throws an int
  std::atomic<bool> badErrorName{false}; // setKillSwitch() throws with an invalid D-Bus name

  EngineStatus status() override {
    if (throwUnknown)
      throw 42;
    if (throwRuntime)
      throw std::runtime_error("engine status is unavailable");
    std::lock_guard lock(mutex_);
    EngineStatus s;
    s.state = running_ ? "trading" : "idle";
    s.sessionId = sessionId_;
    s.version = "0.1.0";
    s.networkCore = 2;
    s.strategyCore = 3;
    s.pollMode = "busy";
    s.exchange = "127.0.0.1:9000";
    s.killSwitch = killSwitch_;
    s.uptimeNs = 3'723'000'000'000ULL;
    return s;
  }

  EngineStats stats() override {
    if (throwRuntime)
      throw std::runtime_error("stats are unavailable");
    std::lock_guard lock(mutex_);
    return makeStats();
  }

  std::string startSession(std::uint32_t durationSec) override {
    std::lock_guard lock(mutex_);
    if (running_)
      throw ControlError(kErrorBusy, "a session is already running (" + sessionId_ + ")");
    running_ = true;
    lastDuration_ = durationSec;
    sessionId_ = "20261124-120000-fake" + std::to_string(++sessions_);
    return sessionId_;
  }

  SessionSummary stopSession() override {
    std::lock_guard lock(mutex_);
    if (!running_)
      throw ControlError(kErrorNoSession, "no session is running");
    running_ = false;
    SessionSummary summary;
    summary.sessionId = sessionId_;
    summary.directory = "/var/lib/hftd/sessions/" + sessionId_;
    summary.stats = makeStats();
    summary.stats.state = "idle";
    return summary;
  }

  void setKillSwitch(bool on) override {
    if (badErrorName)
      throw ControlError("not a valid name", "the kill switch is stuck");
    std::lock_guard lock(mutex_);
    killSwitch_ = on;
  }

  ReloadResult reload() override {
    if (failReload)
      throw ControlError(kErrorConfig, "/etc/hftd/hftd.toml:12: risk.max_position must be > 0");
    return ReloadResult{{"risk.max_position", "strategy.spread_ticks"}, {"network.core"}};
  }

  [[nodiscard]] bool killSwitch() {
    std::lock_guard lock(mutex_);
    return killSwitch_;
  }
  [[nodiscard]] std::uint32_t lastDuration() {
    std::lock_guard lock(mutex_);
    return lastDuration_;
  }

  // The numbers every stats() returns; tests compare against them.
  static EngineStats sampleStats() {
    EngineStats s;
    s.state = "trading";
    s.sessionId = "20261124-120000-fake1";
    s.killSwitch = false;
    s.rxPackets = 1001;
    s.rxMessages = 2002;
    s.mdMessages = 1900;
    s.mdGaps = 3;
    s.malformedFrames = 1;
    s.ordersSent = 120;
    s.acks = 118;
    s.fills = 40;
    s.partialFills = 7;
    s.rejects = 2;
    s.rejectsInvalidPrice = 1;
    s.rejectsThrottled = 1;
    s.riskRejects = 5;
    s.cancels = 60;
    s.expired = 4;
    s.reconnects = 1;
    s.sessionStartedNs = 1'795'000'000'000'000'000ULL;
    s.uptimeNs = 61'500'000'000ULL;
    s.symbols = {{1, 100, 12.5, -3.25, 101.25}, {42, -7, -0.125, 1e-9, 99999.0001}};
    s.latency = {{"rx_to_decoded", 2002, 80, 120, 180, 450, 900, 1500, 131.5},
                 {"rx_to_sent", 120, 900, 1400, 2100, 4800, 9000, 12000, 1555.25}};
    return s;
  }

private:
  EngineStats makeStats() const {
    EngineStats s = sampleStats();
    s.state = running_ ? "trading" : "idle";
    s.sessionId = sessionId_;
    s.killSwitch = killSwitch_;
    return s;
  }

  std::mutex mutex_;
  bool running_ = false;
  bool killSwitch_ = false;
  std::string sessionId_;
  std::uint32_t sessions_ = 0;
  std::uint32_t lastDuration_ = 0;
};

} // namespace hft::control::testing
