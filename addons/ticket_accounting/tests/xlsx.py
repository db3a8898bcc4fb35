"""Read back the first sheet of an XLSX workbook, for the tests, with the
standard library only (zipfile and ElementTree; openpyxl is not a
dependency)."""
import io
import re
import zipfile
from xml.etree import ElementTree

NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}


def column_index(reference):
    "0 for the A of A1, 26 for AA1"
    letters = re.match(r'[A-Z]+', reference).group()
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord('A') + 1
    return index - 1


def read_sheet(content, sheet=1):
    """The rows of a sheet of the XLSX content as lists of values: str for
    strings, float for numbers (the cached value of a formula); raise if
    content is not a valid XLSX zip"""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        if archive.testzip() is not None:
            raise ValueError("corrupt XLSX")
        names = archive.namelist()
        for required in ['[Content_Types].xml', 'xl/workbook.xml']:
            if required not in names:
                raise ValueError(f"not an XLSX: no {required}")
        strings = []
        if 'xl/sharedStrings.xml' in names:
            root = ElementTree.fromstring(archive.read('xl/sharedStrings.xml'))
            for item in root.findall('m:si', NS):
                strings.append(''.join(
                        t.text or '' for t in item.iter(f"{{{NS['m']}}}t")))
        root = ElementTree.fromstring(
            archive.read(f'xl/worksheets/sheet{sheet}.xml'))
    rows = []
    for row in root.iter(f"{{{NS['m']}}}row"):
        values = {}
        for cell in row.findall('m:c', NS):
            value = cell.findtext('m:v', namespaces=NS)
            kind = cell.get('t')
            if kind == 's':
                value = strings[int(value)]
            elif kind == 'inlineStr':
                value = ''.join(t.text or '' for t in cell.iter(
                        f"{{{NS['m']}}}t"))
            elif kind == 'str':
                pass
            elif value is not None:
                value = float(value)
            values[column_index(cell.get('r'))] = value
        rows.append([values.get(i) for i in range(
                    max(values, default=-1) + 1)])
    return rows
