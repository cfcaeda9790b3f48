"""The motion-tracking environment: backend-neutral MDP (mdp/, managers/), simulator backends, the wrapper."""
