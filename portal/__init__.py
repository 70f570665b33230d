"""The service-hall portal of the civilised quality service programme (文明优质服务)."""
import logging
from pathlib import Path

from babel import Locale
from flask import Flask, has_request_context, session
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import check_secret_key, default_settings
from .database import configure_engine
from .errors import register_error_handlers
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .security import init_security

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the portal application; ``test_config`` overrides the environment's settings."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(default_settings(app.instance_path, test_config or {}))
    check_secret_key(app)
    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    init_security(app)  # first, so every later hook and log line has the request id
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"


LOCALES = {name: Locale.parse(name) for name in ("zh_CN", "en")}


def select_locale() -> Locale:
    """The language chosen with the switcher, else Chinese (always Chinese outside requests).

    Parsed Locale objects are handed back, so that no request parses one again.
    """
    name = session.get("lang", "zh_CN") if has_request_context() else "zh_CN"
    return LOCALES.get(name, LOCALES["zh_CN"])


def register_blueprints(app: Flask) -> None:
    from .blueprints.admin import bp as admin_bp
    from .blueprints.api import bp as api_bp
    from .blueprints.auth import bp as auth_bp
    from .blueprints.checklist import bp as checklist_bp
    from .blueprints.complaints import bp as complaints_bp
    from .blueprints.home import bp as home_bp
    from .blueprints.honours import bp as honours_bp
    from .blueprints.ledger import bp as ledger_bp
    from .blueprints.ratings import bp as ratings_bp
    from .blueprints.reports import bp as reports_bp
    from .blueprints.scores import bp as scores_bp

    for bp in (auth_bp, home_bp, admin_bp, api_bp, ratings_bp, complaints_bp, checklist_bp,
               ledger_bp, honours_bp, scores_bp, reports_bp):
        app.register_blueprint(bp)


def register_template_helpers(app: Flask) -> None:
    from . import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from . import commands

    commands.init_app(app)
