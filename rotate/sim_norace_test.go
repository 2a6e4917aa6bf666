//go:build !race

package rotate_test

const simRace = false
