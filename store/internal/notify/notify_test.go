package notify

import "testing"

func pending(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestSignalRoutesAndCoalesces(t *testing.T) {
	var n Notifier
	all, cancelAll := n.Subscribe("")
	defer cancelAll()
	a, cancelA := n.Subscribe("a")
	defer cancelA()
	b, cancelB := n.Subscribe("b")

	n.Signal("a")
	n.SignalSet(map[string]struct{}{"a": {}})
	if !pending(all) || !pending(a) || pending(b) {
		t.Fatal("Signal(a) must wake the all-stream and the a subscriptions only")
	}
	if pending(a) {
		t.Fatal("two signals must coalesce into one wake-up")
	}
	cancelB()
	cancelB() // idempotent
	n.SignalAll()
	if !pending(all) || !pending(a) || pending(b) {
		t.Fatal("SignalAll must wake every live subscription and no cancelled one")
	}
	n.Signal()
	n.SignalSet(nil)
	if pending(all) {
		t.Fatal("an empty signal woke a subscription")
	}
}

func TestClose(t *testing.T) {
	var n Notifier
	ch, cancel := n.Subscribe("a")
	defer cancel()
	n.Close()
	if !pending(ch) {
		t.Fatal("Close must wake existing subscriptions")
	}
	late, _ := n.Subscribe("a")
	if !pending(late) {
		t.Fatal("a subscription after Close must start signalled")
	}
}
