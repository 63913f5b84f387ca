// Package load drives an HTTP target with keep-alive clients for the benchmarks and reports
// throughput and latency percentiles.
package load

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Result is what a run measured: successful requests per second and latency percentiles in
// milliseconds.
type Result struct{ RPS, P50, P99 float64 }

// Run sends requests from workers keep-alive clients for d, each a fresh request from newReq;
// any answer but 200 fails the benchmark.
func Run(tb testing.TB, c *http.Client, workers int, d time.Duration, newReq func() (*http.Request, error)) Result {
	var mu sync.Mutex
	var all []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var lat []time.Duration
			for time.Now().Before(deadline) {
				req, err := newReq()
				if err != nil {
					tb.Error(err)
					return
				}
				start := time.Now()
				if !OK(tb, c, req) {
					return
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(all) == 0 {
		tb.Fatal("no request succeeded")
	}
	slices.Sort(all)
	ms := func(p int) float64 { return float64(all[(len(all)-1)*p/100].Microseconds()) / 1000 }
	return Result{RPS: float64(len(all)) / d.Seconds(), P50: ms(50), P99: ms(99)}
}

// OK sends one request, drains the answer and reports whether it was a 200 (failing tb if not).
func OK(tb testing.TB, c *http.Client, req *http.Request) bool {
	resp, err := c.Do(req)
	if err != nil {
		tb.Errorf("%s: %v", req.URL, err)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Errorf("%s: status %d", req.URL, resp.StatusCode)
		return false
	}
	return true
}
