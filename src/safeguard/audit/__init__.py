"""The append-only audit log as a transparency log: recording, sequencing into a Merkle tree,
signed checkpoints, verification and proofs."""
