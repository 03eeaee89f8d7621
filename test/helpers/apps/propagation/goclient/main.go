// Go net/http client for propagation-headers.test.ts: GET each URL of the arguments in order over
// one keep-alive connection; prints the statuses.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	var out []string
	for _, u := range os.Args[1:] {
		r, err := http.Get(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		out = append(out, fmt.Sprint(r.StatusCode))
	}
	fmt.Println(strings.Join(out, " "))
}
