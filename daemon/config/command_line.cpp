// SPDX-License-Identifier: MIT
// hftd's command line.
#include "daemon/config/command_line.h"

#include <charconv>
#include <filesystem>

#include "libhft/core/endpoint.h"
#include "libhft/core/options.h"

namespace hft::config {
namespace {

template <typename T> T number(const std::string& flag, const std::string& text, T min, T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw UsageError(flag + ": '" + text + "' is not a number in " + std::to_string(min) + ".." +
                     std::to_string(max));
  return value;
}

} // namespace

std::string usageText() {
  return R"(Usage: hftd [OPTIONS]

The hft trading engine: market data in, orders out, on two pinned cores.

Options:
  --config FILE          configuration file (default /etc/hft/hftd.toml; built-in defaults
                         when that file does not exist)
  --check-config FILE    validate FILE and exit: 0 valid, 78 invalid
  --interface NAME       network interface of the exchange link (default lo)
  --network-core N       core for the network thread ([cpu] network_core)
  --strategy-core N      core for the strategy thread ([cpu] strategy_core)
  --exchange HOST:PORT   exchange-sim address (default 127.0.0.1:9000)
  --socket PATH          control socket (default /run/hftd/control.sock)
  --sessions-dir DIR     where session directories go (default /var/lib/hft/sessions)
  --poll-mode busy|yield busy spins (production); yield sleeps when idle (few cores, CI)
  --md-transport tcp|udp|af_xdp
                         where market data comes from ([exchange] md_transport): the TCP
                         session (default), the UDP feed through a kernel socket, or the UDP
                         feed through AF_XDP on --interface (docs/af_xdp.md)
  --udp-feed ADDR:PORT   the UDP feed's address to listen on ([exchange] udp_feed)
  --xdp-queue N          af_xdp: the receive queue of --interface the feed arrives on
                         ([exchange] xdp_queue, 0 to 63, default 0)
  --start-session        start a session at start-up ([session] autostart = "always")
  --idle                 start idle, wait for `hftctl start-session` (autostart = "never")
  --duration SECS        length of the start-up session (0 = until stopped)
  -v, --verbose          debug logging (every order and execution)
  -h, --help             this text
  --version              the version

Options are parsed by getopt_long(3): --name=VALUE works too, and a long name may be shortened
to any prefix that names one option only.

Exit codes: 0 clean exit; 1 run-time failure; 2 bad command line; 78 invalid configuration
(file, flag, or a core that does not exist or is outside the allowed CPU set).
)";
}

namespace {

enum Flag : int {
  Help = 1,
  Version,
  Verbose,
  Config,
  CheckConfig,
  Interface,
  NetworkCore,
  StrategyCore,
  Exchange,
  Socket,
  SessionsDir,
  PollModeFlag,
  MdTransportFlag,
  UdpFeed,
  XdpQueue,
  StartSession,
  Idle,
  Duration,
};

const std::vector<core::OptionSpec> kFlags = {
    {"help", 'h', false, Help},
    {"version", '\0', false, Version},
    {"verbose", 'v', false, Verbose},
    {"config", '\0', true, Config},
    {"check-config", '\0', true, CheckConfig},
    {"interface", '\0', true, Interface},
    {"network-core", '\0', true, NetworkCore},
    {"strategy-core", '\0', true, StrategyCore},
    {"exchange", '\0', true, Exchange},
    {"socket", '\0', true, Socket},
    {"sessions-dir", '\0', true, SessionsDir},
    {"poll-mode", '\0', true, PollModeFlag},
    {"md-transport", '\0', true, MdTransportFlag},
    {"udp-feed", '\0', true, UdpFeed},
    {"xdp-queue", '\0', true, XdpQueue},
    {"start-session", '\0', false, StartSession},
    {"idle", '\0', false, Idle},
    {"duration", '\0', true, Duration},
};

core::ParsedArgs parseFlags(const std::vector<std::string>& args) {
  try {
    return core::parseOptions(args, kFlags);
  } catch (const core::OptionError& e) {
    using Kind = core::OptionError::Kind;
    switch (e.kind()) {
    case Kind::MissingValue: throw UsageError(e.argument() + " needs a value; see hftd --help");
    case Kind::UnexpectedValue: throw UsageError(e.argument() + " takes no value; see hftd --help");
    case Kind::Ambiguous:
      throw UsageError("option '" + e.argument() +
                       "' is ambiguous: it begins several options; see hftd --help");
    case Kind::Unknown: break;
    }
    throw UsageError("unknown option '" + e.argument() + "'; see hftd --help");
  }
}

} // namespace

CommandLine parseCommandLine(const std::vector<std::string>& args) {
  const core::ParsedArgs parsed = parseFlags(args);
  if (!parsed.operands.empty())
    throw UsageError("unexpected argument '" + parsed.operands.front() +
                     "': hftd takes options only; see hftd --help");
  CommandLine cmd;
  for (const core::ParsedOption& option : parsed.options) {
    const std::string& flag = option.spelling;
    const std::string value = option.value.value_or("");
    switch (static_cast<Flag>(option.id)) {
    case Help: cmd.help = true; break;
    case Version: cmd.version = true; break;
    case Verbose: cmd.verbose = true; break;
    case Config: cmd.configPath = value; break;
    case CheckConfig: cmd.checkConfigPath = value; break;
    case Interface: cmd.interface = value; break;
    case NetworkCore: cmd.networkCore = number<int>(flag, value, 0, 4095); break;
    case StrategyCore: cmd.strategyCore = number<int>(flag, value, 0, 4095); break;
    case Exchange: {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0)
        throw UsageError("--exchange: '" + value + "' is not HOST:PORT, e.g. 127.0.0.1:9000");
      cmd.exchangeHost = value.substr(0, colon);
      cmd.exchangePort = number<std::uint16_t>(flag, value.substr(colon + 1), 1, 65535);
      break;
    }
    case Socket: cmd.socket = value; break;
    case SessionsDir: cmd.sessionsDir = value; break;
    case PollModeFlag:
      if (value == "busy")
        cmd.pollMode = PollMode::Busy;
      else if (value == "yield")
        cmd.pollMode = PollMode::Yield;
      else
        throw UsageError("--poll-mode: '" + value + "' is neither busy nor yield");
      break;
    case MdTransportFlag: {
      MdTransport transport{};
      if (!parseMdTransport(value, transport))
        throw UsageError("--md-transport: '" + value + "' is not tcp, udp or af_xdp");
      cmd.mdTransport = transport;
      break;
    }
    case UdpFeed: {
      std::string address;
      std::uint16_t port = 0;
      if (!core::parseIpv4Endpoint(value, address, port))
        throw UsageError("--udp-feed: '" + value +
                         "' is not IPV4-ADDRESS:PORT, e.g. 0.0.0.0:9001 or 239.1.1.1:9001");
      cmd.udpFeed = value;
      break;
    }
    case XdpQueue: cmd.xdpQueue = number<std::uint32_t>(flag, value, 0, 63); break;
    case StartSession: cmd.autostart = Autostart::Always; break;
    case Idle: cmd.autostart = Autostart::Never; break;
    case Duration: cmd.durationSec = number<std::uint32_t>(flag, value, 0, 0xffffffffU); break;
    }
  }
  return cmd;
}

namespace {

// The flags on top of what the file said, then the cross-field checks.
HftdConfig applyFlags(HftdConfig c, const CommandLine& cmd) {
  const std::string source = c.path.empty() ? "command line" : c.path + " + command line";
  if (cmd.interface)
    c.exchange.interface = *cmd.interface;
  if (cmd.networkCore)
    c.cpu.networkCore = *cmd.networkCore;
  if (cmd.strategyCore)
    c.cpu.strategyCore = *cmd.strategyCore;
  if (cmd.exchangeHost)
    c.exchange.host = *cmd.exchangeHost;
  if (cmd.exchangePort)
    c.exchange.port = *cmd.exchangePort;
  if (cmd.socket)
    c.control.socket = *cmd.socket;
  if (cmd.sessionsDir)
    c.session.directory = *cmd.sessionsDir;
  if (cmd.pollMode)
    c.cpu.pollMode = *cmd.pollMode;
  if (cmd.mdTransport)
    c.exchange.mdTransport = *cmd.mdTransport;
  if (cmd.udpFeed)
    (void)core::parseIpv4Endpoint(*cmd.udpFeed, c.exchange.udpFeedAddress, c.exchange.udpFeedPort);
  if (cmd.xdpQueue)
    c.exchange.xdpQueue = *cmd.xdpQueue;
  if (cmd.autostart)
    c.session.autostart = *cmd.autostart;
  if (cmd.durationSec)
    c.session.durationSec = *cmd.durationSec;
  if (cmd.verbose)
    c.log.level = "debug";
  const std::string path = c.path;
  c.path = source;
  validate(c);
  c.path = path;
  return c;
}

} // namespace

HftdConfig resolveConfig(const CommandLine& cmd) {
  HftdConfig c;
  if (cmd.configPath)
    c = loadConfig(*cmd.configPath);
  else if (std::filesystem::exists(kDefaultConfigPath))
    c = loadConfig(kDefaultConfigPath);
  return applyFlags(std::move(c), cmd);
}

HftdConfig reloadConfig(const CommandLine& cmd, const std::string& path) {
  return applyFlags(loadConfig(path), cmd);
}

} // namespace hft::config
