"""Staff photos: check that an upload really is a JPEG or PNG picture, keep a clean small copy."""
import secrets
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMBNAIL = (400, 400)
FORMATS = ("JPEG", "PNG")
UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def _size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def photo_problem(stream: BinaryIO) -> str | None:
    """Why the uploaded ``stream`` can't be a staff photo, or None; judged by content, not name."""
    if _size(stream) > MAX_BYTES:
        return str(_l("照片不能超过 5 MB。"))
    try:
        with Image.open(stream) as image:
            if image.format not in FORMATS:
                return str(_l("只能上传 JPEG 或 PNG 格式的图片。"))
            if image.width * image.height > MAX_PIXELS:
                return str(_l("图片尺寸过大,请上传较小的照片。"))
            image.load()
    except UNREADABLE:
        return str(_l("文件不是有效的图片,请上传 JPEG 或 PNG 格式的照片。"))
    finally:
        stream.seek(0)
    return None


def _flatten(image: Image.Image) -> Image.Image:
    """Turn ``image`` into plain RGB, putting transparent parts on white."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def save_thumbnail(stream: BinaryIO, folder: Path, person_id: int) -> str:
    """Store a re-encoded JPEG of at most 400×400 without metadata; return its file name."""
    return save_picture(stream, folder, str(person_id), THUMBNAIL)


def save_picture(stream: BinaryIO, folder: Path, prefix: str, box: tuple[int, int]) -> str:
    """Store a re-encoded JPEG that fits ``box``, without metadata; return its file name."""
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{prefix}-{secrets.token_hex(8)}.jpg"
    with Image.open(stream) as original:
        image = _flatten(ImageOps.exif_transpose(original))
    image.thumbnail(box)
    image.save(folder / filename, "JPEG", quality=85)
    return filename
