// A Go HTTP hop for the correlation tests (docs/devdocs/correlation.md): GET /x calls
// NEXT + /x with net/http and answers with what it got. Goroutines share OS threads, so
// obi-ts must not link its outgoing call by thread.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	port, next := os.Args[1], os.Args[2]
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(next + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	fmt.Println("listening")
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
