// SPDX-License-Identifier: MIT
// The engine: owns the workers, the rings between them and the session lifecycle, and is
// what the control socket drives (control::ControlTarget).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/config/hftd_config.h"
#include "daemon/control/control_target.h"
#include "daemon/engine/session_recorder.h"
#include "daemon/engine/shared_state.h"

namespace hft::engine {

class NetworkWorker;
class StrategyWorker;

class Engine final : public control::ControlTarget {
public:
  // Allocates every ring and table (on hugepages when configured). No threads yet.
  explicit Engine(config::HftdConfig config);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts the pinned workers and the housekeeping thread; returns once both workers run
  // on their cores. Throws std::runtime_error when a worker cannot be pinned.
  void start();
  // Ends any session (as stop-session does) and joins every thread.
  void shutdown();

  // Called by the main thread about every 100 ms: ends a session whose duration is over.
  void tick();
  // True when both workers have advanced their loop since the previous call.
  [[nodiscard]] bool workersAlive();
  // Test hook (HFTD_TEST_HOOKS=1): the strategy thread stops proving it is alive.
  void stallStrategyForTest();
  // Test hook: the housekeeping thread stops (or resumes) draining the record rings.
  void toggleRecordStallForTest();
  // What a reload reads, given the file's path: by default the file alone; hftd's main sets
  // one that puts the command line back on top (config::reloadConfig). Call before start().
  using ConfigLoader = std::function<config::HftdConfig(const std::string& path)>;
  void setConfigLoader(ConfigLoader loader) { loader_ = std::move(loader); }
  // Applies a validated configuration (SIGHUP and Reload share this).
  control::ReloadResult applyConfig(const config::HftdConfig& next);
  [[nodiscard]] config::HftdConfig config() const;
  [[nodiscard]] std::string stateText() const;

  // control::ControlTarget
  control::EngineStatus status() override;
  control::EngineStats stats() override;
  std::string startSession(std::uint32_t durationSec) override;
  control::SessionSummary stopSession() override;
  void setKillSwitch(bool on) override;
  control::ReloadResult reload() override;

private:
  void housekeepingLoop();
  // Tells the pipeline a control command is waiting (kill switch, cancel-all, reload).
  void wakePipeline();
  void drainRecords();
  // Publishes the recorder's verdict (disk full, journal unwritten) to the strategy.
  void updateRecordsHalt();
  void drainLogs(core::SpscRing<LogEvent>& ring);
  void formatLog(const LogEvent& event);
  [[nodiscard]] control::EngineStats collectStats() const;
  control::SessionSummary stopSessionLocked(const char* why);
  void notifyStatus() const;

  // SIGHUP (main thread) and Reload (control thread) one at a time: both read the running
  // configuration, hand the strategy its new parameters and store the result.
  std::mutex reloadMutex_;
  ConfigLoader loader_;
  mutable std::mutex configMutex_;
  config::HftdConfig config_;
  std::unique_ptr<SharedState> shared_;
  std::unique_ptr<NetworkWorker> network_;
  std::unique_ptr<StrategyWorker> strategy_;
  SessionRecorder recorder_;
  std::thread networkThread_;
  std::thread strategyThread_;
  std::thread housekeepingThread_;
  std::atomic<bool> housekeepingStop_{false};
  std::atomic<bool> stallRecords_{false};

  std::mutex sessionMutex_; // serialises start/stop from the control and main threads
  std::atomic<bool> sessionActive_{false};
  std::atomic<bool> stopping_{false};
  mutable std::mutex sessionInfoMutex_;
  std::string sessionId_;
  std::string sessionDir_;
  std::uint64_t sessionStartedNs_ = 0;
  std::atomic<std::uint64_t> sessionDeadlineNs_{0}; // monotonic; 0 = none
  std::uint64_t startedMonoNs_ = 0;
  std::uint64_t lastNetBeats_ = 0;
  std::uint64_t lastStrategyBeats_ = 0;
  std::uint64_t lastRiskLogNs_ = 0;
};

} // namespace hft::engine
