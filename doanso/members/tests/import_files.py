"""Real spreadsheet files for the import tests, written from Python rows.

XLSX comes from openpyxl. ODS, XLS and the OLE container of a password-protected workbook are written here by
hand, byte for byte as the formats define them (OpenDocument 1.2; Compound File Binary v3; BIFF8), because no
installed library writes them; calamine then reads them like any file an office suite saved.
"""

import datetime
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

from doanso.members.importing import OUR_LAYOUT

HEADER = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Số CCCD",
    "Số điện thoại",
    "Ngày vào Đoàn",
    "Đơn vị",
]


def person(n: int = 1, **changes) -> list:
    """One valid row under HEADER: born 17/05/2003 (male), admitted at 16, citizen ID 048203xxxxxx."""
    row = {
        "STT": n,
        "Họ và tên": f"Nguyễn Văn An{'' if n == 1 else ' ' + chr(64 + n)}".strip(),
        "Ngày sinh": "17/05/2003",
        "Giới tính": "Nam",
        "Dân tộc": "Kinh",
        "Số CCCD": f"048203{n:06d}",
        "Số điện thoại": f"0905 123 {n:03d}",
        "Ngày vào Đoàn": "26/03/2019",
        "Đơn vị": "Chi đoàn thôn 1",
    }
    row.update(changes)
    return [row[h] for h in HEADER]


def people(count: int) -> list[list]:
    # Given names without digits: a name with digits is an error on purpose elsewhere.
    syllables = ["An", "Bình", "Chi", "Dũng", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh"]
    rows = []
    for n in range(1, count + 1):
        given = syllables[n % 10] + ("" if n < 10 else syllables[(n // 10) % 10].lower())
        rows.append(person(n, **{"Họ và tên": f"Trần Thị {given}", "Giới tính": "Nữ", "Số CCCD": f"048303{n:06d}"}))
    return rows


def write_xlsx(path: Path, rows: list[list], *, title: list[list] | None = None, merges=(), sheet="Danh sách") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in title or []:
        ws.append(row)
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], *, encoding="utf-8-sig", delimiter=",") -> Path:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    text = buffer.getvalue()
    if encoding == "cp1258":
        text = _windows_1258_form(text)
    path.write_bytes(text.encode(encoding))
    return path


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _windows_1258_form(text: str) -> str:
    """Windows-1258 has the letters ă â ê ô ơ ư đ but writes the five tones as combining marks after them:
    the form Excel on Windows saves Vietnamese CSV in."""
    import unicodedata

    out: list[str] = []
    base = -1  # index in out of the last base letter
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and ch not in _TONES and base >= 0:
            out[base] = unicodedata.normalize("NFC", out[base] + ch)
        else:
            if not unicodedata.combining(ch):
                base = len(out)
            out.append(ch)
    return "".join(out)


def our_layout_row(**values) -> list:
    return [values.get(h, "") for h in OUR_LAYOUT]


# --- OpenDocument spreadsheet -------------------------------------------------------------------------------------


def _ods_cell(value, span=None) -> str:
    extra = ""
    if span:
        extra = f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"'
    if value is None or value == "":
        return f"<table:table-cell{extra}/>"
    if isinstance(value, datetime.date):
        text = value.strftime("%d/%m/%Y")
        return (
            f'<table:table-cell{extra} office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{text}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell{extra} office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell{extra} office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'
    )


def write_ods(path: Path, rows: list[list], *, sheet="Danh sách", spans: dict | None = None) -> Path:
    """``spans`` {(row, col): (rows, cols)} marks merged cells (0-based); covered cells must be None."""
    spans = spans or {}
    body = []
    for r, row in enumerate(rows):
        cells = "".join(_ods_cell(v, spans.get((r, c))) for c, v in enumerate(row))
        body.append(f"<table:table-row>{cells}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">'
        f"{''.join(body)}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


# --- Compound File Binary (the container of .xls and of encrypted .xlsx) ------------------------------------------

_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dir_entry(name: str, kind: int, start: int, size: int, right: int = _FREE, child: int = _FREE) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _FREE, right, child)
        + b"\0" * 16
        + struct.pack("<I", 0)
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def write_cfb(path: Path, streams: dict[str, bytes]) -> Path:
    """A version-3 compound file holding ``streams`` in the root storage. Streams are padded to the 4,096-byte
    mini-stream cutoff so that all live in regular sectors (the padding is zeros after the data)."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sibling order
    datas = [streams[n].ljust(max(4096, len(streams[n])), b"\0") for n in names]
    sectors = [(len(d) + 511) // 512 for d in datas]
    fat = [_FATSECT, _END]  # sector 0: the FAT itself, sector 1: the directory
    starts = []
    for count in sectors:
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [_END]
    assert len(fat) <= 128, "one FAT sector is enough for these test files"
    fat_sector = struct.pack("<128I", *(fat + [_FREE] * (128 - len(fat))))
    entries = [_dir_entry("Root Entry", 5, _END, 0, child=1)]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else _FREE
        entries.append(_dir_entry(name, 2, starts[i], len(datas[i]), right=right))
    directory = b"".join(entries).ljust(512, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", 0, *([_FREE] * 108))
    )
    assert len(header) == 512
    body = b"".join(d.ljust(n * 512, b"\0") for d, n in zip(datas, sectors, strict=True))
    path.write_bytes(header + fat_sector + directory + body)
    return path


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _unicode(text: str, length_bytes: int = 2) -> bytes:
    encoded = text.encode("utf-16-le")
    count = struct.pack("<H" if length_bytes == 2 else "<B", len(text))
    return count + b"\x01" + encoded


def biff8_workbook(rows: list[list], *, sheet="Sheet1", password: bool = False) -> bytes:
    """The "Workbook" stream of a BIFF8 (.xls) file: strings in a shared-string table, numbers as NUMBER."""
    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                cells.append(_record(0x0203, struct.pack("<HHHd", r, c, 15, float(value))))
            else:
                if value not in strings:
                    strings.append(value)
                cells.append(_record(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(value))))
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6))
    extra = _record(0x002F, struct.pack("<H", 1) + b"\0" * 52) if password else b""
    xfs = b"".join(_record(0x00E0, b"\0" * 20) for _ in range(16))
    sst = _record(0x00FC, struct.pack("<II", len(strings), len(strings)) + b"".join(_unicode(s) for s in strings))
    name = _unicode(sheet, 1)
    boundsheet_len = 4 + 2 + 4 + len(name)
    globals_len = len(bof_globals) + len(extra) + len(xfs) + len(sst) + boundsheet_len + 4
    boundsheet = _record(0x0085, struct.pack("<IBB", globals_len, 0, 0) + name)
    eof = _record(0x000A)
    width = max((len(r) for r in rows), default=0)
    sheet_records = (
        _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
        + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + b"".join(cells)
        + eof
    )
    return bof_globals + extra + xfs + sst + boundsheet + eof + sheet_records


def write_xls(path: Path, rows: list[list], *, password: bool = False) -> Path:
    return write_cfb(path, {"Workbook": biff8_workbook(rows, password=password)})


def write_encrypted_xlsx(path: Path) -> Path:
    """The container Excel writes for a password-protected .xlsx: an OLE file with the ECMA-376 encryption
    streams (an Agile EncryptionInfo header and an EncryptedPackage), instead of a ZIP."""
    info = struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
        b"</encryption>"
    )
    package = struct.pack("<Q", 8192) + bytes(range(256)) * 32
    return write_cfb(path, {"EncryptionInfo": info, "EncryptedPackage": package})
