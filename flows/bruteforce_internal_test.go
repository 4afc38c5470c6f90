package flows

import (
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
)

func TestDelay(t *testing.T) {
	g := &guard{policy: storage.LockoutPolicy{FreeFailures: 5}}
	for failures, want := range map[int]time.Duration{
		5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second, 10: 32 * time.Second,
		11: time.Minute, 19: time.Minute, 1000: time.Minute,
	} {
		if got := g.delay(failures); got != want {
			t.Errorf("delay(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestKeysIgnoreCaseAndKind(t *testing.T) {
	a, b := keysFor(storage.Customer, " Ann@Example.org"), keysFor(storage.Customer, "ann@example.org")
	c := keysFor(storage.Operator, "ann@example.org")
	if a != b || a.failures == c.failures || a.lock == a.failures {
		t.Errorf("keys %+v %+v %+v", a, b, c)
	}
	if addressKey("2001:db8::1") != addressKey("2001:db8::ffff") || addressKey("2001:db8:0:1::1") == addressKey("2001:db8::1") {
		t.Error("IPv6 addresses are not grouped by /64")
	}
	if addressKey("192.0.2.1") == addressKey("192.0.2.2") || addressKey("::ffff:192.0.2.1") != addressKey("192.0.2.1") {
		t.Error("IPv4 addresses are not keyed one by one")
	}
}
