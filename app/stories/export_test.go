package stories

// SetBroadSearch lets tests force either SQLite search plan.
func SetBroadSearch(n int64) (restore func()) {
	old := broadSearch
	broadSearch = n
	return func() { broadSearch = old }
}
