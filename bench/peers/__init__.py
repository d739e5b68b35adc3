"""Scripts that run inside the bench-only peer virtualenvs (.bench/saelens, .bench/dashboard)."""
