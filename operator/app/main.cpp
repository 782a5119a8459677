// electric-operator: runs ElectricSQL on sharded PostgreSQL.
#include <openssl/ssl.h>

#include "app/cli.h"
#include "app/memory.h"

int main(int argc, char** argv) {
  app::limit_malloc_arenas();  // before any thread starts
  // Before any cpprestsdk thread pool exists, so OpenSSL's global state is
  // set up once on the main thread (and torn down cleanly at exit).
  OPENSSL_init_ssl(0, nullptr);
  return app::main_entry(argc, argv);
}
