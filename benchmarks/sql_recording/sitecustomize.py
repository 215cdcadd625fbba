"""Record every distinct SQL statement hookadmin's SQLite connections run (with up to
three parameter sets each) into $HOOKADMIN_SQL_LOG_DIR/<pid>.pickle at exit."""
import atexit
import os
import pickle

_dir = os.environ.get("HOOKADMIN_SQL_LOG_DIR")
if _dir:
    try:
        from hookadmin.core.store.sqlite import faults as _faults
    except Exception:  # noqa: BLE001
        _faults = None
    if _faults is not None:
        _seen: dict = {}
        _cls = _faults.FaultTranslatingConnection
        _ex, _exm = _cls.execute, _cls.executemany

        def _note(sql, params):
            lst = _seen.setdefault(sql, [])
            if len(lst) < 3:
                try:
                    pickle.dumps(params)
                    lst.append(params)
                except Exception:  # noqa: BLE001
                    pass

        def execute(self, sql, parameters=(), /):
            _note(sql, parameters)
            return _ex(self, sql, parameters)

        def executemany(self, sql, parameters, /):
            parameters = list(parameters)
            if parameters:
                _note(sql, parameters[0])
            return _exm(self, sql, parameters)

        _cls.execute, _cls.executemany = execute, executemany

        @atexit.register
        def _dump():
            if _seen:
                with open(os.path.join(_dir, f"{os.getpid()}.pickle"), "wb") as f:
                    pickle.dump(_seen, f)
