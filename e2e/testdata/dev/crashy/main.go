// Command crashy is a custom handler that fails at once, as a server with
// a missing setting does: a line on stdout, two on stderr, exit code 3.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("crashy: starting")
	fmt.Fprintln(os.Stderr, "crashy: reading settings")
	fmt.Fprintln(os.Stderr, "crashy: CRASHY_TOKEN is not set")
	os.Exit(3)
}
