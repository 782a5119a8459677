// Command-line entry: `electric-operator run|render|--version|--help`.
#pragma once

namespace app {

// Parses argv, runs the chosen subcommand and returns the process exit code:
// 0 success, 1 runtime failure, 2 usage error (wrong flag, unreadable file).
int main_entry(int argc, char** argv);

}  // namespace app
