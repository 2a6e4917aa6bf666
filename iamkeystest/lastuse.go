package iamkeystest

import "time"

// A keyUse is one use of an access key.
type keyUse struct {
	at      time.Time // when the key was used, on the server clock
	visible time.Time // when last-use data starts to show it; zero: at once
	service string
	region  string
}

// lastUse is what the server knows of a key's uses (WithLastUseLag).
//
// Of the uses that have become visible, the one recorded last is shown. A
// pending use recorded before another that becomes visible no later can
// never be shown, so it is dropped; the pending uses are then in increasing
// order of visibility, each in a whole second of its own, which bounds them
// by the lag in seconds.
type lastUse struct {
	latest  keyUse   // the last use recorded, visible or not; for KeyInfo
	shown   keyUse   // the last use known to be visible; zero: never used
	pending []keyUse // not yet visible when recorded; by visible, ascending
}

// record adds a use at now, the server clock's time, under lag. Callers
// hold s.mu.
func (l *lastUse) record(u keyUse, lag time.Duration, now time.Time) {
	if lag > 0 {
		u.visible = ceilSecond(u.at.Add(lag))
	}
	l.latest = u
	l.settle(now)
	if !u.visible.After(now) {
		l.shown, l.pending = u, nil
		return
	}
	i := len(l.pending)
	for i > 0 && !l.pending[i-1].visible.Before(u.visible) {
		i--
	}
	l.pending = append(l.pending[:i], u)
}

// settle moves the pending uses visible at now into shown.
func (l *lastUse) settle(now time.Time) {
	n := 0
	for n < len(l.pending) && !l.pending[n].visible.After(now) {
		n++
	}
	if n > 0 {
		l.shown = l.pending[n-1]
		l.pending = append(l.pending[:0], l.pending[n:]...)
	}
}

// shownAt returns the use last-use data shows at now; its at is zero if
// none. It does not change l.
func (l *lastUse) shownAt(now time.Time) keyUse {
	u := l.shown
	for _, p := range l.pending {
		if p.visible.After(now) {
			break
		}
		u = p
	}
	return u
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

// recordUse records a use of k at the given time. Callers hold s.mu.
func (s *Server) recordUse(k *accessKey, at time.Time, service, region string) {
	k.uses.record(keyUse{at: at, service: service, region: region}, s.lastUseLag, s.now())
}

// SetLastUseLag changes the delay before later uses show in last-use data
// (see WithLastUseLag). Uses already recorded keep the delay they had.
func (s *Server) SetLastUseLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastUseLag = max(d, 0)
}
