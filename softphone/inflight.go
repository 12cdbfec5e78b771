package softphone

import "sync"

// inflight counts the incoming-call handlers running on a Phone, so that Register and Answer
// can wait, before they unregister and return, for the calls they took to end and for refusals
// to be sent. A process that exits right after would otherwise drop them.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func (f *inflight) enter() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
}

func (f *inflight) exit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.idle != nil {
		f.idle.Broadcast()
	}
}

// wait returns when no handler runs.
func (f *inflight) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idle == nil {
		f.idle = sync.NewCond(&f.mu)
	}
	for f.n > 0 {
		f.idle.Wait()
	}
}
