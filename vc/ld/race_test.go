//go:build race

package ld

func init() { raceEnabled = true }
