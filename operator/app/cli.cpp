#include "app/cli.h"

#include <iostream>

#include "app/options.h"
#include "app/render_command.h"
#include "app/run_command.h"

namespace app {

int main_entry(int argc, char** argv) {
  Command command = parse_command_line(std::vector<std::string>(argv, argv + argc));
  if (auto* run = std::get_if<RunOptions>(&command)) return run_operator(*run);
  if (auto* render = std::get_if<RenderOptions>(&command)) return run_render(*render, std::cout, std::cerr);
  if (auto* help = std::get_if<ShowHelp>(&command)) {
    std::cout << help->text;
    return 0;
  }
  if (std::holds_alternative<ShowVersion>(command)) {
    std::cout << "electric-operator " << EO_VERSION << "\n";
    return 0;
  }
  std::cerr << "electric-operator: " << std::get<UsageError>(command).message << "\n"
            << "Run 'electric-operator --help' for usage.\n";
  return 2;
}

}  // namespace app
