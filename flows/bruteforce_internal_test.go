package flows

import (
	"crypto/sha256"
	"fmt"
	"strings"
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
	key, opera, museum := []byte("throttle key"), &storage.Institution{ID: "opera"}, &storage.Institution{ID: "museum"}
	a, b := keysFor(key, opera, storage.Customer, " Ann@Example.org"), keysFor(key, opera, storage.Customer, "ann@example.org")
	c := keysFor(key, opera, storage.Operator, "ann@example.org")
	if a != b || a.failures == c.failures || a.lock == a.failures {
		t.Errorf("keys %+v %+v %+v", a, b, c)
	}
	if d := keysFor(key, museum, storage.Customer, "ann@example.org"); d == a {
		t.Error("two institutions share the throttle keys of an email")
	}
	if e := keysFor([]byte("another key"), opera, storage.Customer, "ann@example.org"); e == a {
		t.Error("the throttle keys do not depend on the secret key")
	}
	if strings.Contains(a.failures, "ann") || strings.Contains(a.failures, fmt.Sprintf("%x", sha256.Sum256([]byte("ann@example.org")))) {
		t.Errorf("the throttle key shows the email or its plain hash: %s", a.failures)
	}
	if addressKey("2001:db8::1") != addressKey("2001:db8:0:ff::ffff") || addressKey("2001:db8:0:100::1") == addressKey("2001:db8::1") {
		t.Error("IPv6 addresses are not grouped by /56")
	}
	if addressKey("192.0.2.1") == addressKey("192.0.2.2") || addressKey("::ffff:192.0.2.1") != addressKey("192.0.2.1") {
		t.Error("IPv4 addresses are not keyed one by one")
	}
}
