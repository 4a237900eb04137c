"""Tests of the template miner."""
