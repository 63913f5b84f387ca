package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// benchLimit refuses most calls after its burst, as a hot key would; both paths are measured.
var benchLimit = Limit{Quota: 1000, Window: time.Second}

// benchKeys are existing keys, built before timing so key construction is not measured.
func benchKeys(lim Limiter, b *testing.B) []string {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("team-", i)
		if _, err := lim.Allow(context.Background(), keys[i], benchLimit, 1); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}

func benchAllow(b *testing.B, lim Limiter) {
	keys := benchKeys(lim, b)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := lim.Allow(ctx, keys[i&1023], benchLimit, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(97))
			for ; pb.Next(); i++ {
				if _, err := lim.Allow(ctx, keys[i&1023], benchLimit, 1); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkMemoryAllow(b *testing.B) { benchAllow(b, NewMemory()) }

func BenchmarkRedisAllow(b *testing.B) {
	benchAllow(b, NewRedis(rds.Client(b), rds.Prefix(b)))
}
