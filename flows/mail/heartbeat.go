package mail

import (
	"context"
	"sync"
	"time"

	"github.com/usher-idp/usher/storage"
)

// DefaultLease is how long a claim on an email lasts unless renewed: the
// longest another replica waits before it takes over the emails of a
// worker that died mid-batch. A living worker renews its claims every
// third of it (heartbeat).
const DefaultLease = 15 * time.Second

// heartbeat renews the claims of a batch while the worker sends it, and
// tells the worker which emails it still holds: an email whose claim was
// not renewed (another worker took it over after a stall) or whose lease
// may have run out (the database did not answer) is left alone.
type heartbeat struct {
	queue storage.OutboxQueue
	lease time.Duration

	mu      sync.Mutex
	pending map[string]int // ID → attempts, of the claims not yet done
	lost    map[string]bool
	until   time.Time // the claims last renewed hold until then (this process's clock)

	stop chan struct{}
	done chan struct{}
}

// beat starts the heartbeat of batch, claimed just now for lease.
func (w *Worker) beat(ctx context.Context, batch []storage.OutboxEmail) *heartbeat {
	h := &heartbeat{queue: w.cfg.Queue, lease: w.cfg.Lease, pending: make(map[string]int, len(batch)),
		lost: map[string]bool{}, until: time.Now().Add(w.cfg.Lease), stop: make(chan struct{}), done: make(chan struct{})}
	for _, e := range batch {
		h.pending[e.ID] = e.Attempts
	}
	go h.run(ctx)
	return h
}

func (h *heartbeat) run(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(h.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-ctx.Done():
			return // the worker stops: it releases what it has not sent
		case <-tick.C:
			h.renew(ctx)
		}
	}
}

// renew extends the claims not yet done.
func (h *heartbeat) renew(ctx context.Context) {
	h.mu.Lock()
	claims := make([]storage.EmailClaim, 0, len(h.pending))
	for id, attempts := range h.pending {
		claims = append(claims, storage.EmailClaim{ID: id, Attempts: attempts})
	}
	h.mu.Unlock()
	if len(claims) == 0 {
		return
	}
	asked := time.Now()
	rctx, cancel := context.WithTimeout(ctx, h.lease/3)
	defer cancel()
	renewed, err := h.queue.RenewEmailClaims(rctx, claims, h.lease)
	if err != nil {
		return // the claims hold until h.until; past it, the worker sends no more of them
	}
	kept := make(map[string]bool, len(renewed))
	for _, id := range renewed {
		kept[id] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until = asked.Add(h.lease)
	for _, c := range claims {
		if !kept[c.ID] && h.pending[c.ID] == c.Attempts {
			h.lost[c.ID] = true
		}
	}
}

// holds reports whether the worker may still send the email: its claim was
// not taken over, and its lease has not run out (the heartbeat renews it
// while the message is sent; if the database stops answering meanwhile,
// the message in flight is the one another worker may send again).
func (h *heartbeat) holds(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lost[id] && time.Now().Before(h.until)
}

// finished takes an email out of the claims renewed: its outcome is
// recorded.
func (h *heartbeat) finished(id string) {
	h.mu.Lock()
	delete(h.pending, id)
	h.mu.Unlock()
}

// end stops the heartbeat.
func (h *heartbeat) end() {
	close(h.stop)
	<-h.done
}
