// Command etcd-compact compacts the harness's etcd up to its current revision,
// so that tests can make older resourceVersions unusable on purpose and see
// how a client copes with "410 Gone" (the apiserver also compacts by itself
// every --etcd-compaction-interval, but far too rarely for a test).
//
// Usage: etcd-compact -endpoint http://127.0.0.1:PORT
// Prints the revision it compacted to.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	endpoint := flag.String("endpoint", "", "etcd client URL")
	flag.Parse()
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "usage: etcd-compact -endpoint URL")
		os.Exit(2)
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd-compact: connecting:", err)
		os.Exit(1)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Any read returns the store's current revision in its header.
	status, err := client.Get(ctx, "compact-revision-probe")
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd-compact: reading revision:", err)
		os.Exit(1)
	}
	revision := status.Header.Revision
	if _, err := client.Compact(ctx, revision, clientv3.WithCompactPhysical()); err != nil {
		fmt.Fprintln(os.Stderr, "etcd-compact: compacting:", err)
		os.Exit(1)
	}
	fmt.Println(revision)
}
