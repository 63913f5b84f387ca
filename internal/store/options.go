package store

// Option tunes Open.
type Option func(*options)

type options struct {
	deleteBatch int
	maxConns    int
}

func defaultOptions() options {
	return options{deleteBatch: 1000, maxConns: 8}
}

// WithDeleteBatchSize sets how many rows DeleteCampaignData removes per statement (default 1000).
func WithDeleteBatchSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.deleteBatch = n
		}
	}
}

// WithMaxConns caps the connection pool: PostgreSQL connections, or SQLite reader connections
// (SQLite always has exactly one writer connection). Default 8.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}
