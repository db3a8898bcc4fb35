"""The QR code drawn as one path is the code's matrix, module for module."""
import io
import re
import unittest

import qrcode
from reportlab.pdfgen import canvas

from ..report import QR_MASK, draw_qr

RECT = re.compile(rb'([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re')


def matrix_of(data):
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
        mask_pattern=QR_MASK)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


class DrawQrTestCase(unittest.TestCase):

    def drawn_matrix(self, data, x, y, size, count):
        "Rebuild the matrix from the rectangles of the page's content"
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pageCompression=0)
        draw_qr(pdf, data, x, y, size)
        pdf.showPage()
        pdf.save()
        cell = size / count
        matrix = [[False] * count for _ in range(count)]
        rects = RECT.findall(buffer.getvalue())
        self.assertTrue(rects)
        for rx, ry, width, height in rects:
            col = round((float(rx) - x) / cell)
            row = count - 1 - round((float(ry) - y) / cell)
            self.assertAlmostEqual(float(height), cell, places=2)
            for offset in range(round(float(width) / cell)):
                self.assertFalse(matrix[row][col + offset])
                matrix[row][col + offset] = True
        return matrix

    def test_matrix(self):
        "Every dark module is drawn, and only those"
        for data in ['T-1', 'G1.' + 'x' * 150]:
            with self.subTest(data=data):
                expected = matrix_of(data)
                self.assertEqual(
                    self.drawn_matrix(data, 30, 40, 140, len(expected)),
                    expected)

    def test_same_operators_as_rect(self):
        "The path is what path.rect would write for each dark run"
        for data, x, y, size in [('T-1', 30, 40, 140),
                ('G1.' + 'x' * 150, 379.8425, 615.1811, 147.4016)]:
            with self.subTest(data=data):
                matrix = matrix_of(data)
                cell = size / len(matrix)
                expected = canvas.Canvas(io.BytesIO()).beginPath()
                for row, cells in enumerate(matrix):
                    top = y + size - (row + 1) * cell
                    start = None
                    for col, dark in enumerate([*cells, False]):
                        if dark and start is None:
                            start = col
                        elif not dark and start is not None:
                            expected.rect(x + start * cell, top,
                                (col - start) * cell, cell)
                            start = None
                pdf = canvas.Canvas(io.BytesIO())
                drawn = []
                pdf.drawPath = lambda path, **kwargs: drawn.append(
                    path.getCode())
                draw_qr(pdf, data, x, y, size)
                self.assertEqual(drawn, [expected.getCode()])
