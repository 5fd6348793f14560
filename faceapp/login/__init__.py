"""Log in with your face: ``sudo`` and the login ask faceapp through PAM (``pam_exec.so``),
per system user, failing closed.

* :mod:`~faceapp.login.config` — the one settings file, ``/etc/faceapp/login.toml``, checked;
* :mod:`~faceapp.login.store` — each user's enrolled faces, kept by root
  (``/var/lib/faceapp/<user>/``, 0700 / 0600), their lockout and on/off state;
* :mod:`~faceapp.login.check` — the program PAM runs: guards, the camera, the verdict,
  exit 0 only for the user's live face, any other outcome (an error included) a refusal;
* :mod:`~faceapp.login.audit` — one line per attempt to syslog (authpriv) and a root-only log;
* :mod:`~faceapp.login.pam` — installing and removing the PAM lines, keeping a backup;
* :mod:`~faceapp.login.cli` — ``faceapp-login``, the command root uses to set it all up.

No TensorFlow, no Kivy: the check runs in a fresh isolated Python (``-I``) for every attempt.
"""
