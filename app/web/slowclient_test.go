package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/web"
)

// slowClients opens n connections that each send a little, then trickle a
// byte every interval until stop: half never finish their headers
// (slowloris), half send headers for a large form body and then send it
// slowly (slow POST), the F4 attack.
func slowClients(t *testing.T, addr string, n int, paths []string, stop <-chan struct{}) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		path := paths[i%len(paths)]
		var first, trickle string
		if i%2 == 0 {
			first, trickle = "GET "+path+" HTTP/1.1\r\nHost: x\r\n", "X-a: b\r\n"
		} else {
			first = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=a"
			trickle = "a"
		}
		if _, err := conn.Write([]byte(first)); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			tk := time.NewTicker(200 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					if _, err := conn.Write([]byte(trickle)); err != nil {
						return
					}
				}
			}
		}()
	}
	return &wg
}

// TestF4SlowClientsDoNotStarvePages: forty slow connections against a real
// listening server (with the production http.Server settings and four
// admission slots) while the staff sign-in page and the patient consent page
// keep answering 200 within 3 s (a loaded CI machine). Before the fix four slow bodies held every slot
// and both pages answered 503 after a 10 s wait.
func TestF4SlowClientsDoNotStarvePages(t *testing.T) {
	e := newConsentEnv(t, func(c *config.Config) { c.MaxConcurrentRequests = 4 })
	consentPath := e.send(t)

	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.App.HTTPServer()
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	stop := make(chan struct{})
	wg := slowClients(t, addr, 40, []string{"/login", consentPath + "/verify", "/login/totp"}, stop)
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(500 * time.Millisecond) // let every slow request reach the server

	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(3 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		for _, p := range []string{"/login", consentPath} {
			start := time.Now()
			res, err := hc.Get(srv.URL + p)
			if err != nil {
				t.Fatalf("GET %s during the attack: %v", p, err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s during the attack: %d after %v", p, res.StatusCode, time.Since(start))
			}
			if d := time.Since(start); d > 3*time.Second { // before the fix: 503 after a 10 s wait
				t.Fatalf("GET %s during the attack took %v", p, d)
			}
			n++
		}
	}
	if n < 4 {
		t.Fatalf("only %d page loads in 3 s", n)
	}
}

// TestF4SlowBodyTimesOut: a form body that does not arrive within the body
// deadline is answered 408 and the connection closed, without holding a slot.
func TestF4SlowBodyTimesOut(t *testing.T) {
	restore := web.SetBodyReadTimeout(300 * time.Millisecond)
	defer restore()
	e := newConsentEnv(t, func(c *config.Config) { c.MaxConcurrentRequests = 1 })
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.App.HTTPServer()
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("slow body answered %d, want 408", res.StatusCode)
	}
	// The single slot is free: the sign-in page answers at once.
	hc := &http.Client{Timeout: 2 * time.Second}
	r2, err := hc.Get(srv.URL + "/login")
	if err != nil || r2.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page after the slow body: %v %v", r2, err)
	}
	r2.Body.Close()
}
