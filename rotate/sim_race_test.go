//go:build race

package rotate_test

// simRace: the race detector slows every HTTP round trip several times, so
// TestSimulation runs fewer schedules under it (see simDefaultSeeds).
const simRace = true
