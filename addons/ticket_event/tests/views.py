from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

# What the web client (sao) can show in a list column, by field type; a
# datetime needs widget="date" or widget="time" there.
LIST_WIDGETS = {
    'binary', 'boolean', 'callto', 'char', 'date', 'dict', 'email', 'float',
    'image', 'integer', 'many2many', 'many2one', 'numeric', 'one2many',
    'one2one', 'progressbar', 'reference', 'selection', 'multiselection',
    'sip', 'text', 'time', 'timedelta', 'url',
    }


class ListViewTestMixin:
    "Every column of the module's list views can be shown by the web client"

    @with_transaction()
    def test_list_view_widgets(self):
        "Test list view columns have a widget the web client knows"
        from lxml import etree
        pool = Pool()
        View = pool.get('ir.ui.view')
        for view in View.search([
                    ('module', '=', self.module),
                    ('type', 'in', ['tree', None]),
                    ]):
            if not view.model:
                continue
            Model = pool.get(view.model)
            result = Model.fields_view_get(view.id)
            if result['type'] != 'tree':
                continue
            tree = etree.fromstring(result['arch'])
            for node in tree.iter('field'):
                name = node.get('name')
                widget = node.get('widget') or result['fields'][name]['type']
                with self.subTest(view=view.name, field=name):
                    self.assertIn(widget, LIST_WIDGETS)
