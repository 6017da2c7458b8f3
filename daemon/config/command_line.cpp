// SPDX-License-Identifier: MIT
// hftd's command line.
#include "daemon/config/command_line.h"

#include <charconv>
#include <filesystem>

#include "libhft/core/endpoint.h"

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

Exit codes: 0 clean exit; 1 run-time failure; 2 bad command line; 78 invalid configuration
(file, flag, or a core that does not exist or is outside the allowed CPU set).
)";
}

CommandLine parseCommandLine(const std::vector<std::string>& args) {
  CommandLine cmd;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool hasInline = false;
    if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      hasInline = true;
    }
    auto next = [&]() -> std::string {
      if (hasInline)
        return value;
      if (i + 1 >= args.size())
        throw UsageError(flag + " needs a value; see hftd --help");
      return args[++i];
    };
    if (flag == "-h" || flag == "--help")
      cmd.help = true;
    else if (flag == "--version")
      cmd.version = true;
    else if (flag == "-v" || flag == "--verbose")
      cmd.verbose = true;
    else if (flag == "--config")
      cmd.configPath = next();
    else if (flag == "--check-config")
      cmd.checkConfigPath = next();
    else if (flag == "--interface")
      cmd.interface = next();
    else if (flag == "--network-core")
      cmd.networkCore = number<int>(flag, next(), 0, 4095);
    else if (flag == "--strategy-core")
      cmd.strategyCore = number<int>(flag, next(), 0, 4095);
    else if (flag == "--exchange") {
      const std::string text = next();
      const auto colon = text.rfind(':');
      if (colon == std::string::npos || colon == 0)
        throw UsageError("--exchange: '" + text + "' is not HOST:PORT, e.g. 127.0.0.1:9000");
      cmd.exchangeHost = text.substr(0, colon);
      cmd.exchangePort = number<std::uint16_t>(flag, text.substr(colon + 1), 1, 65535);
    } else if (flag == "--socket")
      cmd.socket = next();
    else if (flag == "--sessions-dir")
      cmd.sessionsDir = next();
    else if (flag == "--poll-mode") {
      const std::string mode = next();
      if (mode == "busy")
        cmd.pollMode = PollMode::Busy;
      else if (mode == "yield")
        cmd.pollMode = PollMode::Yield;
      else
        throw UsageError("--poll-mode: '" + mode + "' is neither busy nor yield");
    } else if (flag == "--md-transport") {
      const std::string text = next();
      MdTransport transport{};
      if (!parseMdTransport(text, transport))
        throw UsageError("--md-transport: '" + text + "' is not tcp, udp or af_xdp");
      cmd.mdTransport = transport;
    } else if (flag == "--udp-feed") {
      const std::string text = next();
      std::string address;
      std::uint16_t port = 0;
      if (!core::parseIpv4Endpoint(text, address, port))
        throw UsageError("--udp-feed: '" + text +
                         "' is not IPV4-ADDRESS:PORT, e.g. 0.0.0.0:9001 or 239.1.1.1:9001");
      cmd.udpFeed = text;
    } else if (flag == "--xdp-queue")
      cmd.xdpQueue = number<std::uint32_t>(flag, next(), 0, 63);
    else if (flag == "--start-session")
      cmd.autostart = Autostart::Always;
    else if (flag == "--idle")
      cmd.autostart = Autostart::Never;
    else if (flag == "--duration")
      cmd.durationSec = number<std::uint32_t>(flag, next(), 0, 0xffffffffU);
    else
      throw UsageError("unknown option '" + args[i] + "'; see hftd --help");
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
