// Starts and stops a process's runnables in order, as controller-runtime's
// manager does: servers, caches and the elector first, the leader-gated ones
// (workers) only while this process leads; everything stopped in reverse,
// under one shutdown deadline.
//
//   runtime::block_shutdown_signals();          // first, before any thread
//   ...
//   runtime::ManagerOptions options;
//   options.grace_period = std::chrono::seconds(30);
//   options.leader_election = true;
//   options.handle_signals = true;
//   runtime::Manager manager(options);
//   manager.add({"metrics server", false, [&] { return server.start(":8080"); },
//                [&] { server.stop(); return true; }});
//   manager.add({"controller", false, start_and_wait_for_sync, drain, /*drains=*/true});
//   manager.add({"workers", /*leader_gated=*/true, [&] { ...; return kube::ok(); }, park});
//   manager.every(std::chrono::seconds(30), [&] { events.flush(); });
//   callbacks.on_started_leading = [&] { manager.set_leading(true); };
//   callbacks.on_stopped_leading = [&] { manager.set_leading(false); };
//   return manager.run();                     // the process's exit code
//
// Start: the runnables that are not leader-gated start one after the other
// in the order they were added, on a thread of the manager's; a start may
// block (caches waiting for their sync). Once all have started, the
// leader-gated ones start, in order, whenever the process leads (at once
// without leader election). A start that fails logs its error and stops the
// manager with kStartFailedExitCode.
//
// Stop: the first stop request (a signal, request_stop, a failed start)
// stops the leader-gated runnables, then the others, each in reverse order.
// stop() is called for every runnable whose start() was called, even one
// that failed or is still running: it must make a blocked start() return.
// A stop that returns false could not stop cleanly (work still running past
// its grace period): the process exits at once with code 1, and the
// runnables added before it are not stopped (a Lease stays held, so no new
// leader writes next to the abandoned work).
//
// One deadline covers the whole stop: grace_period for the stops up to and
// including the one marked `drains` (a controller waiting for its in-flight
// reconciles, which should return within grace_period by itself), then
// cleanup_budget for everything after it. Past it the process exits with the
// stop's exit code: a cleanup step hung on an unresponsive server must not
// keep the process alive.
//
// Leadership: leading ends (set_leading(false)) stop the leader-gated
// runnables; outside a shutdown the process then exits with code 1 (as
// controller-runtime does), so nothing it holds in memory writes next to the
// new leader.
//
// Signals: with handle_signals, a thread takes SIGTERM and SIGINT by sigwait:
// the first requests a stop with exit code 0, the second exits at once with
// code 1. It is detached and may outlive the manager (it waits for a signal
// that never comes): it shares only a shared_ptr'd state with it.
//
// Threads: run() runs the ticks and the stop on the calling thread; starts
// run on the manager's starter thread; set_leading runs the leader-gated
// starts and stops on the caller's thread (an elector's); request_stop may
// be called from any thread, a runnable's start included.
#pragma once

#include <signal.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/result.h"
#include "runtime/clock.h"

namespace runtime {

// The exit code of a process whose runnable failed to start.
constexpr int kStartFailedExitCode = 1;
// The exit code of a process that exits at once: a second signal, a stop
// that abandoned work, leadership lost.
constexpr int kAbandonedExitCode = 1;

struct Runnable {
  std::string name;  // for logs
  // Runs only while the process leads (workers that write).
  bool leader_gated = false;
  // Starts it; may block until stop() is called. An Error's message is
  // logged as is (error, or warning when the manager is already stopping).
  std::function<kube::Done()> start;
  // Stops it; false: it could not stop cleanly (see above).
  std::function<bool()> stop;
  // Its stop drains in-flight work and may take up to grace_period.
  bool drains = false;
};

// Ends the process with an exit code; tests pass one that records it.
using ExitFunction = std::function<void(int code)>;

struct ManagerOptions {
  Duration grace_period = std::chrono::seconds(30);
  Duration cleanup_budget = std::chrono::seconds(5);
  // True: leader-gated runnables wait for set_leading(true). False: the
  // process leads from the start.
  bool leader_election = false;
  // Take SIGTERM and SIGINT (call block_shutdown_signals() first).
  bool handle_signals = false;
  Clock* clock = nullptr;  // null: system_clock()
  // Null: flush the logs and std::_Exit.
  ExitFunction exit;
};

// SIGTERM and SIGINT, which the manager takes by sigwait.
sigset_t shutdown_signals();
// Blocks them in the calling thread and so in every thread it starts later:
// call it first in the process, so no handler runs in an arbitrary thread
// and no thread is killed by the default action.
void block_shutdown_signals();

class Manager {
 public:
  explicit Manager(ManagerOptions options = {});
  ~Manager();  // joins what run() started; call run() to completion first
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Before run().
  void add(Runnable runnable);
  // Runs `tick` every `interval` on run()'s thread until the stop begins
  // (a flush of aggregated Events). A slow tick delays the next, not a stop
  // request's handling by more than its own duration.
  void every(Duration interval, std::function<void()> tick);

  // Starts everything, waits for a stop request, stops everything; returns
  // the exit code of the first stop request. Once per manager.
  int run();

  // Asks run() to stop; the first request's code is the exit code.
  void request_stop(int exit_code);
  bool stopping() const;

  void set_leading(bool leading);
  bool leading() const;

  // What the signal thread shares with the manager (see manager.cpp).
  struct StopState;

 private:
  enum class Phase { Idle, Starting, Started };
  struct Entry {
    Runnable runnable;
    Phase phase = Phase::Idle;
  };
  struct Tick {
    Duration interval;
    std::function<void()> fn;
  };
  class Deadline;

  void start_ungated();
  // Logs a failed start; stops the manager unless it is stopping already.
  void start_failed(const std::string& message);
  // Starts or stops the leader-gated runnables to match "all others started,
  // leading, not stopping". False when a stop could not stop cleanly.
  bool update_gated(Deadline* deadline);
  void wait_for_stop_request();
  int stop_all();
  void abandon();
  std::vector<Entry*> entries(bool leader_gated);

  ManagerOptions options_;
  Clock& clock_;
  std::shared_ptr<StopState> stop_;
  std::vector<Entry> entries_;
  std::vector<Tick> ticks_;
  std::thread starter_;

  // Serialises leader-gated starts and stops; taken before mu_. Guards the
  // leader-gated entries' phases.
  std::mutex gate_mu_;
  bool gated_running_ = false;  // guarded by gate_mu_
  // Guards the other entries' phases and the flags below.
  mutable std::mutex mu_;
  bool stopping_ = false;  // stop_all() has begun
  bool all_started_ = false;
  bool leading_ = false;
};

}  // namespace runtime
