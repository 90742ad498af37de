// Command tasksim runs deterministic simulations of heartbeat-based task dispatch over the
// Stepflow v1 task protocol, and works with its wire messages. See README.md.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
