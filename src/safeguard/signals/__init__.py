"""Text risk signals: normalisation and indicator families matched against messages."""
