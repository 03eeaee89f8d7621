// An HTTP/2 server for the integration tests, built from Debian's Go toolchain and
// golang.org/x/net (golang-golang-x-net-dev) in GOPATH mode, with no module download:
//
//	h2server <h2c-port> <tls-port> <cert> <key>
//
// The first port serves h2c (prior knowledge and Upgrade, x/net/http2/h2c), the second h2 over
// TLS (ALPN). /big writes a 2 MiB body followed by trailers.
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "hello over h2")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Body-Sum")
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := []byte(strings.Repeat("z", 64*1024))
		for i := 0; i < 32; i++ {
			w.Write(chunk)
		}
		w.Header().Set("X-Body-Sum", "2097152")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%d", n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	plain := &http.Server{Addr: "127.0.0.1:" + os.Args[1], Handler: h2c.NewHandler(mux, &http2.Server{})}
	secure := &http.Server{Addr: "127.0.0.1:" + os.Args[2], Handler: mux}
	go func() { log.Fatal(plain.ListenAndServe()) }()
	go func() { log.Fatal(secure.ListenAndServeTLS(os.Args[3], os.Args[4])) }()
	fmt.Println("listening")
	select {}
}
