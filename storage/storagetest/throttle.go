package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func throttleTests() []test {
	return []test{
		{"CountsInWindow", testThrottleCounts},
		{"NewWindowAfterTheOld", testThrottleWindow},
		{"KeysAreSeparate", testThrottleKeys},
		{"Reset", testThrottleReset},
		{"WindowTimes", testThrottleTimes},
	}
}

// testThrottleTimes: GetThrottle tells when the window started and ends and
// when it was last hit, so callers can pace attempts (progressive delays).
func testThrottleTimes(e *env) {
	s, _ := e.scope("opera")
	th, err := s.GetThrottle(e.ctx, "k")
	must(e.t, "get throttle never hit", err)
	mustEqual(e.t, "throttle never hit", th, storage.Throttle{})
	start := e.now()
	e.hit(s, "k", 15*time.Minute, 1)
	e.clock.Advance(90 * time.Second)
	e.hit(s, "k", 15*time.Minute, 2)
	th, err = s.GetThrottle(e.ctx, "k")
	must(e.t, "get throttle", err)
	mustEqual(e.t, "throttle", th, storage.Throttle{Count: 2, WindowStart: start,
		WindowEnd: start.Add(15 * time.Minute), LastHit: start.Add(90 * time.Second)})
	e.clock.Advance(15 * time.Minute)
	th, err = s.GetThrottle(e.ctx, "k")
	must(e.t, "get ended throttle", err)
	mustEqual(e.t, "ended throttle", th, storage.Throttle{})
}

// hit counts one event and checks the count returned.
func (e *env) hit(s storage.Scoped, key string, window time.Duration, want int) {
	e.t.Helper()
	n, err := s.HitThrottle(e.ctx, key, window)
	mustCount(e.t, "hit "+key, n, err, want)
}

// throttleCount checks the count of key.
func (e *env) throttleCount(s storage.Scoped, key string, want int) {
	e.t.Helper()
	th, err := s.GetThrottle(e.ctx, key)
	mustCount(e.t, "count of "+key, th.Count, err, want)
}

func testThrottleCounts(e *env) {
	s, _ := e.scope("opera")
	e.throttleCount(s, "ip:192.0.2.1", 0)
	for want := 1; want <= 3; want++ {
		e.hit(s, "ip:192.0.2.1", time.Minute, want)
		e.clock.Advance(time.Second)
	}
	e.throttleCount(s, "ip:192.0.2.1", 3)
}

func testThrottleWindow(e *env) {
	s, _ := e.scope("opera")
	const window = 15 * time.Minute
	e.hit(s, "k", window, 1)
	e.clock.Advance(window - time.Second)
	e.hit(s, "k", window, 2) // the window lasts from the first hit, not the last
	e.throttleCount(s, "k", 2)
	e.clock.Advance(time.Second)
	e.throttleCount(s, "k", 0)
	e.hit(s, "k", window, 1)
	e.clock.Advance(window - time.Second)
	e.hit(s, "k", window, 2)
	e.throttleCount(s, "k", 2)
	e.clock.Advance(time.Hour)
	e.throttleCount(s, "k", 0)
	e.hit(s, "k", window, 1)
}

func testThrottleKeys(e *env) {
	s, _ := e.scope("opera")
	e.hit(s, "a", time.Minute, 1)
	e.hit(s, "a", time.Minute, 2)
	e.hit(s, "b", time.Minute, 1)
	e.throttleCount(s, "a", 2)
	e.throttleCount(s, "b", 1)
	e.throttleCount(s, "c", 0)
}

func testThrottleReset(e *env) {
	s, _ := e.scope("opera")
	e.hit(s, "a", time.Hour, 1)
	e.hit(s, "a", time.Hour, 2)
	e.hit(s, "b", time.Hour, 1)
	must(e.t, "reset", s.ResetThrottle(e.ctx, "a"))
	e.throttleCount(s, "a", 0)
	e.throttleCount(s, "b", 1)
	e.hit(s, "a", time.Hour, 1)
	must(e.t, "reset an unknown key", s.ResetThrottle(e.ctx, "unknown"))
}
