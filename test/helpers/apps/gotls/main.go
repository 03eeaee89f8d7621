// HTTP/1.1 over Go's crypto/tls for the integration tests, built from Debian's Go toolchain with
// the standard library only (GOPATH mode, no module download):
//
//	gotls server <port> <cert> <key>   HTTPS, HTTP/1.1 only (no h2 by ALPN); prints "listening"
//	gotls client <cacert> <base-url>   waits for a line on stdin, then on one keep-alive
//	                                   connection: GET /hello three times, POST /echo with a
//	                                   10-byte body, GET /missing; prints the status codes
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
)

func server(port, cert, key string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "hello over tls")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%d", n)
	})
	mux.HandleFunc("/", http.NotFound)
	s := &http.Server{
		Addr:         "127.0.0.1:" + port,
		Handler:      mux,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only
	}
	fmt.Println("listening")
	log.Fatal(s.ListenAndServeTLS(cert, key))
}

func client(cacert, base string) {
	pem, err := os.ReadFile(cacert)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	// a TLSClientConfig of its own keeps the transport on HTTP/1.1
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	bufio.NewReader(os.Stdin).ReadString('\n')
	var codes []string
	do := func(req *http.Request, err error) {
		if err != nil {
			log.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, fmt.Sprint(resp.StatusCode))
	}
	for i := 0; i < 3; i++ {
		do(http.NewRequest("GET", base+"/hello", nil))
	}
	do(http.NewRequest("POST", base+"/echo", strings.NewReader("abcdefghij")))
	do(http.NewRequest("GET", base+"/missing", nil))
	fmt.Println(strings.Join(codes, " "))
}

func main() {
	switch os.Args[1] {
	case "server":
		server(os.Args[2], os.Args[3], os.Args[4])
	case "client":
		client(os.Args[2], os.Args[3])
	}
}
