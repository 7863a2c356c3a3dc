package e2e

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// PageWeight loads url in a new tab with its own, empty browser context and
// the HTTP cache disabled (a first visit) and returns the bytes that crossed
// the network for it: the sum of Network.loadingFinished encodedDataLength
// (compressed bodies plus response headers) over every request the page made,
// counted once the load event has fired and the network has been quiet for
// half a second. ctx must be a chromedp context whose browser is running,
// such as Page.Ctx().
func PageWeight(ctx context.Context, url string) (bytes int64, err error) {
	return pageWeight(ctx, url, nil)
}

// Weight is PageWeight for a page behind a session: it loads path in a new
// tab with its own browser context and a cold, disabled cache, carrying over
// only this page's cookies (such as the patient's verified consent session),
// and returns the bytes transferred.
func (p *Page) Weight(path string) (int64, error) {
	p.t.Helper()
	got, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.b.base + "/"}})
	if err != nil {
		return 0, fmt.Errorf("page weight: read cookies: %w", err)
	}
	var cookies []*network.CookieParam
	for _, c := range got.Cookies {
		cookies = append(cookies, &network.CookieParam{Name: c.Name, Value: c.Value, URL: p.b.base + "/",
			Path: c.Path, Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite})
	}
	return pageWeight(p.ctx, p.b.base+path, cookies)
}

func pageWeight(ctx context.Context, url string, cookies []*network.CookieParam) (bytes int64, err error) {
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		return 0, fmt.Errorf("page weight: open tab: %w", err)
	}
	if len(cookies) > 0 {
		if _, err := chromedp.Call(tab, network.SetCookies, network.SetCookiesParams{Cookies: cookies}); err != nil {
			return 0, fmt.Errorf("page weight: set cookies: %w", err)
		}
	}
	if _, err := chromedp.Call(tab, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		return 0, fmt.Errorf("page weight: disable cache: %w", err)
	}

	var (
		mu       sync.Mutex
		total    float64
		pending  = map[network.RequestID]bool{}
		lastSeen = time.Now()
	)
	lctx, stop := context.WithCancel(tab)
	defer stop()
	err = chromedp.Listen(lctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			pending[ev.RequestID] = true
		case *network.EventLoadingFinished:
			total += ev.EncodedDataLength
			delete(pending, ev.RequestID)
		case *network.EventLoadingFailed:
			delete(pending, ev.RequestID)
		default:
			return
		}
		lastSeen = time.Now()
	})
	if err != nil {
		return 0, fmt.Errorf("page weight: listen: %w", err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		return 0, fmt.Errorf("page weight: load %s: %w", url, err)
	}
	// Wait for network quiet: nothing in flight and no event for 500ms.
	for {
		mu.Lock()
		quiet := len(pending) == 0 && time.Since(lastSeen) >= 500*time.Millisecond
		n := total
		mu.Unlock()
		if quiet {
			return int64(n), nil
		}
		select {
		case <-ctx.Done():
			return int64(n), fmt.Errorf("page weight: waiting for the network to settle: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
