"""Tests of the federation library: signatures, vocabulary, discovery, delivery."""
