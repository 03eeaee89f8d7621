// An HTTP/2 client for the integration tests, built from Debian's Go toolchain and
// golang.org/x/net (golang-golang-x-net-dev) in GOPATH mode, with no module download:
//
//	h2client <base-url> <n> [cacert]
//
// Waits for a line on stdin (until the agent has instrumented it), then on ONE connection
// (h2c with prior knowledge for http://, h2 by ALPN for https:// with cacert): GET /hello?i=0,
// then GET /hello?i=1..n all at once (concurrent streams on the connection). Prints the number
// of 200 responses. With H2_TRACEPARENT set, every request carries it as its `traceparent` header;
// with H2_TAG, the query is i=<tag><i>; with H2_SEQUENTIAL=1, the n requests go one after the other.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/http2"
)

func main() {
	base := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	t := &http2.Transport{}
	if strings.HasPrefix(base, "http://") {
		t.AllowHTTP = true
		t.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	} else {
		pem, err := os.ReadFile(os.Args[3])
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	c := &http.Client{Transport: t}
	bufio.NewReader(os.Stdin).ReadString('\n')
	get := func(i int) bool {
		req, err := http.NewRequest("GET", fmt.Sprintf("%s/hello?i=%s%d", base, os.Getenv("H2_TAG"), i), nil)
		if err != nil {
			log.Fatal(err)
		}
		if tp := os.Getenv("H2_TRACEPARENT"); tp != "" {
			req.Header.Set("traceparent", tp)
		}
		resp, err := c.Do(req)
		if err != nil {
			log.Print(err)
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	ok := 0
	if get(0) {
		ok++ // the connection is open: the others share it
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 1; i <= n && os.Getenv("H2_SEQUENTIAL") == "1"; i++ {
		if get(i) {
			ok++
		}
	}
	for i := 1; i <= n && os.Getenv("H2_SEQUENTIAL") != "1"; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if get(i) {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	fmt.Println(ok)
}
