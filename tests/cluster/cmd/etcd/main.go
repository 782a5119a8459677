// Command etcd is etcd's own server main, built from the pinned module so the
// harness needs no binary download.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
