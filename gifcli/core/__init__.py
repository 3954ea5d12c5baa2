"""What every layer uses: the errors a user can fix, the one number rule, atomic files,
signals held around compiled code, and the Numba cache folder."""
